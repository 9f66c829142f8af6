#!/usr/bin/env python3
"""Encode a folder of frames as a video: `slowfast-custom frames-to-video` as a script.

The code is in slowfast_custom/commands/frames_to_video.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.frames_to_video import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
