#!/usr/bin/env python3
"""Time the subset filter on a full-size annotation set: `slowfast-custom benchmark-subset` as a script.

The code is in slowfast_custom/commands/benchmark_subset.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.benchmark_subset import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
