#!/usr/bin/env python3
"""Generate the embedded synthetic dataset (the quick start's): `slowfast-custom synthetic` as a script.

The code is in slowfast_custom/commands/make_synthetic.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.make_synthetic import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
