#!/usr/bin/env python3
"""Label actions by person track in the browser: `slowfast-custom label` as a script.

The code is in slowfast_custom/commands/annotate.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.annotate import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
