#!/usr/bin/env python3
"""Export a trained action model to ONNX or TorchScript, checked: `slowfast-custom export` (see its --help)."""

import sys

from slowfast_custom.commands.export_model import main
from slowfast_custom.errors import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
