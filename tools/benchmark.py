#!/usr/bin/env python3
"""Measure loading, training and demo speed (docs/BENCHMARKS.md): `slowfast-custom benchmark` as a script.

The code is in slowfast_custom/commands/benchmark.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.benchmark import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
