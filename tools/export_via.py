#!/usr/bin/env python3
"""Export keyframes and tracked people as a VIA project: `slowfast-custom export-via` as a script.

The code is in slowfast_custom/commands/export_via.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.export_via import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
