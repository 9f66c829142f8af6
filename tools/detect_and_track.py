#!/usr/bin/env python3
"""Detect and track people on a dataset's frames: `slowfast-custom track` as a script.

The code is in slowfast_custom/commands/detect_and_track.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.detect_and_track import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
