#!/usr/bin/env python3
"""Train, test or demo with the plugin (upstream's run_net): `slowfast-custom train` (or `demo`) as a script.

The code is in slowfast_custom/commands/run_net.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.run_net import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
