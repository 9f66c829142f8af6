#!/usr/bin/env python3
"""Check a dataset folder before training (--fix writes repaired copies): `slowfast-custom check` as a script.

The code is in slowfast_custom/commands/check_dataset.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.check_dataset import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
