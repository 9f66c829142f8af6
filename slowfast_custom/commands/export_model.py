"""Export a trained action model (clips + person boxes -> action scores) to ONNX or TorchScript, checked.

    slowfast-custom export --cfg CFG --checkpoint CKPT --format onnx [--out model.onnx] [KEY VALUE ...]
    slowfast-custom export --print model.onnx          # what the file takes, and a script that runs it alone
    slowfast-custom export --example-script > score_clip.py

The file is compared with the PyTorch model on a real clip and its boxes from
the config's test split (DATA.PATH_TO_DATA_DIR), or on a synthetic clip when
there is no dataset; it is written only when the largest difference is within
--atol. It carries its class names and how to build its inputs from a video
(--print shows them). Run the demo on it with DEMO.BACKEND onnxruntime
DEMO.ONNX_FILE model.onnx. A TorchScript file needs `import torchvision`
before torch.jit.load (the model runs torchvision's RoIAlign).
"""

import argparse
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.deploy.metadata import DEFAULT_ATOL, EXAMPLE_SCRIPT, FORMATS, describe, read_metadata
from slowfast_custom.errors import UserError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     epilog="\n".join(__doc__.strip().splitlines()[1:]),
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--cfg", dest="cfg_file", help="YAML config of the model (a path or a packaged config's name)")
    parser.add_argument("--checkpoint", type=cli_args.existing_file, help="checkpoint (.pyth) to export")
    parser.add_argument("--format", choices=sorted(FORMATS))
    parser.add_argument("--out", type=cli_args.output_file, help="output file; default: beside the checkpoint")
    parser.add_argument("--atol", type=cli_args.non_negative_float, default=DEFAULT_ATOL,
                        help="largest score difference accepted")
    parser.add_argument("--print", dest="print_file", type=Path, metavar="FILE",
                        help="show what an exported file takes and gives (its metadata), and a script using it alone")
    parser.add_argument("--config", action="store_true", help="with --print: also the config the model came from")
    parser.add_argument("--example-script", action="store_true",
                        help="print a script that scores a clip of a video with an .onnx file alone (onnxruntime, "
                             "NumPy, OpenCV)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="KEY VALUE config overrides")
    args = parser.parse_args(argv)
    if args.example_script:
        print(EXAMPLE_SCRIPT, end="")
        return 0
    if args.print_file:
        if not args.print_file.is_file():
            raise UserError(f"{args.print_file}: exported model not found")
        print(describe(read_metadata(args.print_file), args.print_file, args.config))
        if args.print_file.suffix == ".onnx":
            print("\nScore a clip of a video with this file alone (slowfast-custom export --example-script):\n")
            print(EXAMPLE_SCRIPT)
        return 0
    missing = [flag for flag, value in (("--cfg", args.cfg_file), ("--checkpoint", args.checkpoint),
                                        ("--format", args.format)) if not value]
    if missing:
        parser.error(f"exporting needs {', '.join(missing)} (or use --print FILE)")

    from slowfast_custom.plugin import setup_plugin

    setup_plugin()  # before upstream's model code is imported: an unpatched upstream is one line naming the fix
    from slowfast_custom.config import load_config
    from slowfast_custom.deploy.export import export_model
    from slowfast_custom.engine.logs import setup_logging

    setup_logging()
    cfg = load_config(argparse.Namespace(cfg_file=args.cfg_file, opts=args.opts))
    report = export_model(cfg, args.checkpoint, args.format, args.out, args.atol, config_file=Path(args.cfg_file).name)
    print(report.line())
    return 0
