#!/usr/bin/env python3
"""Write example AVA annotation files to try make_subset without AVA's: `slowfast-custom ava-files` as a script.

The code is in slowfast_custom/commands/make_ava_files.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.make_ava_files import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
