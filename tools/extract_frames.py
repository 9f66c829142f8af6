#!/usr/bin/env python3
"""Extract the frames of videos into a dataset folder: `slowfast-custom extract` as a script.

The code is in slowfast_custom/commands/extract_frames.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.extract_frames import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
