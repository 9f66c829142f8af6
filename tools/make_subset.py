#!/usr/bin/env python3
"""Build a ready-to-train AVA subset from a few chosen videos: `slowfast-custom subset` as a script.

The code is in slowfast_custom/commands/make_subset.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.make_subset import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
