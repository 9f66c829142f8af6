#!/usr/bin/env python3
"""Export a trained action model (clips + person boxes -> action scores) to ONNX or TorchScript, checked.

    python tools/export_model.py --cfg CFG --checkpoint CKPT --format onnx [--out model.onnx] [KEY VALUE ...]

The file is compared with the PyTorch model on a real clip and its boxes from
the config's test split (DATA.PATH_TO_DATA_DIR); it is written only when the
largest difference is within --atol. Run the demo on it with
DEMO.BACKEND onnxruntime DEMO.ONNX_FILE model.onnx.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom.config import load_config
from slowfast_custom.deploy.export import DEFAULT_ATOL, FORMATS, export_model
from slowfast_custom.errors import run_cli
from slowfast_custom.plugin import setup_plugin


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--cfg", dest="cfg_file", required=True, help="YAML config of the model")
    parser.add_argument("--checkpoint", type=Path, required=True, help="checkpoint (.pyth) to export")
    parser.add_argument("--format", choices=sorted(FORMATS), required=True)
    parser.add_argument("--out", type=Path, help="output file; default: beside the checkpoint")
    parser.add_argument("--atol", type=float, default=DEFAULT_ATOL, help="largest score difference accepted")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    args = parser.parse_args(argv)
    setup_plugin()  # before upstream's model code is imported: an unpatched upstream is one line naming the fix
    from slowfast_custom.engine.logs import setup_logging

    setup_logging()
    cfg = load_config(argparse.Namespace(cfg_file=args.cfg_file, opts=args.opts))
    report = export_model(cfg, args.checkpoint, args.format, args.out, args.atol)
    print(report.line())
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
