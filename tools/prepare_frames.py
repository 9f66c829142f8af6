#!/usr/bin/env python3
"""Write the frames once at model size (the frame store): `slowfast-custom prepare-frames` as a script.

The code is in slowfast_custom/commands/prepare_frames.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.prepare_frames import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
