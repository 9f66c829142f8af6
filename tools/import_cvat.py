#!/usr/bin/env python3
"""Import CVAT for video/images 1.1 annotations as an AVA-format dataset: `slowfast-custom import-cvat` as a script.

The code is in slowfast_custom/commands/import_cvat.py (installed with the package); options: --help.
"""

import sys

from slowfast_custom.commands.import_cvat import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
