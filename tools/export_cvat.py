#!/usr/bin/env python3
"""Export detect-and-track's tracks as CVAT video annotation files: `slowfast-custom export-cvat` as a script.

The code is in slowfast_custom/commands/export_cvat.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.export_cvat import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
