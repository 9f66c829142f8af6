"""Write the embedded default dataset: rendered stick figures whose actions differ only in motion.

    python tools/make_synthetic.py --out datasets/synthetic
"""

import argparse
import json
import sys

from slowfast_custom import cli_args
from slowfast_custom.data.synthetic import SyntheticSpec, existing_summary, make_synthetic_dataset
from slowfast_custom.errors import run_cli


def main(argv=None) -> int:
    defaults = SyntheticSpec()
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--out", required=True, type=cli_args.output_dir, help="dataset folder to create")
    parser.add_argument("--train-videos", type=cli_args.positive_int, default=defaults.train_videos,
                        help="videos of the train split")
    parser.add_argument("--val-videos", type=cli_args.positive_int, default=defaults.val_videos,
                        help="videos of the val split")
    parser.add_argument("--seconds", type=cli_args.positive_int, default=defaults.seconds, help="length of each video")
    parser.add_argument("--fps", type=cli_args.positive_int, default=defaults.fps, help="frame rate of the frames")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the figures and actions")
    parser.add_argument("--skip-existing", action="store_true",
                        help="do nothing if --out already holds a complete dataset made with these settings")
    args = parser.parse_args(argv)
    spec = SyntheticSpec(train_videos=args.train_videos, val_videos=args.val_videos, seconds=args.seconds,
                         fps=args.fps, seed=args.seed)
    summary = existing_summary(args.out, spec) if args.skip_existing else None
    if summary is not None:
        print(f"{args.out} is complete, kept as it is")
    else:
        summary = make_synthetic_dataset(args.out, spec)
    print(json.dumps({k: summary[k] for k in ("train", "val", "actions")}))
    print(f"dataset: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
