"""Check an AVA-format dataset folder before training; --fix writes repaired copies of what is mechanical.

    python tools/check_dataset.py datasets/mine [--cfg configs/SLOWFAST_32x2_R101_custom.yaml] [--fix] [KEY VALUE ...]

Prints every problem as file:line: error|warning: message. hint; exits 1 when
there are errors. --fix writes <name>.fixed.csv next to each repaired file and
never changes the originals.
"""

import argparse
import sys

from slowfast_custom import cli_args
from slowfast_custom.errors import run_cli

DEFAULT_CFG = "SLOWFAST_32x2_R101_custom.yaml"  # packaged (slowfast_custom/configs/)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("data", type=cli_args.existing_dir, help="dataset folder (DATA.PATH_TO_DATA_DIR)")
    parser.add_argument("--cfg", dest="cfg_file", default=str(DEFAULT_CFG),
                        help="training config whose file names, AVA.FPS and clip length to check against")
    parser.add_argument("--fix", action="store_true", help="write repaired copies (<name>.fixed.csv)")
    parser.add_argument("opts", nargs="*", default=[], help="KEY VALUE config overrides, e.g. MODEL.NUM_CLASSES 5")
    args = parser.parse_intermixed_args(argv)
    # Imported once the command line is read: --help answers without the config machinery.
    from slowfast_custom.check.dataset import check_dataset, check_spec_from_cfg, fix_dataset
    from slowfast_custom.config import load_config

    # The check reads files only; NUM_GPUS 0 keeps a GPU config loadable on a machine without one.
    args.opts = ["DATA.PATH_TO_DATA_DIR", str(args.data), "NUM_GPUS", "0", *args.opts]
    cfg = load_config(args)
    spec = check_spec_from_cfg(cfg)
    report = check_dataset(spec)
    print(report.text())
    if args.fix:
        written = fix_dataset(spec, report)
        for original, fixed in written:
            print(f"wrote {fixed} (repaired copy of {original.name}; check it, then move it over the original)")
        if not written:
            print("nothing to repair mechanically")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
