#!/usr/bin/env python3
"""Turn labelled VIA files into an AVA-format dataset's annotations: `slowfast-custom import-via` as a script.

The code is in slowfast_custom/commands/import_via.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.import_via import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
