"""Build a ready-to-train AVA subset from a few chosen videos.

    python tools/make_subset.py --annotations ava_annotations.tar --videos videos/ \\
        --train-ids=-5KQ66BBWC4 --val-ids=1j20qq1JyX4 --out AVA

Keeps only the chosen videos' rows of every AVA annotation file, cuts seconds
900-1801 of each video to videos_15min/ and extracts its frames at 30 fps
(with --videos), writes frame lists, ava.json and a config for
configs/SLOWFAST_32x2_R101_custom.yaml with every path filled in, then prints
a summary and the tools/run_net.py command that trains on it.

Video ids starting with "-" (like -5KQ66BBWC4): write --train-ids=-5KQ66BBWC4
(with "="); "--train-ids -5KQ66BBWC4" works too unless the id starts with
"--". Several ids: repeat the option or separate them with commas, or list
them in a file, one per line (--train-ids-file).
"""

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from slowfast_custom import cli_args
from slowfast_custom.ava.layout import AVA_END_SEC, AVA_START_SEC
from slowfast_custom.ava_subset.build import REPO_CONFIG, SubsetSpec, format_summary, make_subset
from slowfast_custom.ava_subset.ids import DEFAULT_TRAIN_IDS, DEFAULT_VAL_IDS, ids_from_options, join_dash_ids
from slowfast_custom.errors import run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--annotations", type=Path, default=Path("ava_annotations.tar"),
                        help="ava_annotations.tar or the folder it extracts to (default: %(default)s)")
    parser.add_argument("--videos", type=cli_args.existing_dir,
                        help="folder of the original videos, <id>.mp4/.mkv/.webm; "
                        "without it no frames are extracted (the annotations must then hold frame_lists/)")
    parser.add_argument("--out", type=cli_args.output_dir, default=Path("AVA"),
                        help="dataset folder to write (default: %(default)s)")
    parser.add_argument("--train-ids", action="append", default=[], metavar="IDS",
                        help=f"train video ids, comma separated (default: {','.join(DEFAULT_TRAIN_IDS)}); "
                        "write --train-ids=-5KQ66BBWC4 for an id starting with '-'")
    parser.add_argument("--val-ids", action="append", default=[], metavar="IDS",
                        help=f"val video ids (default: {','.join(DEFAULT_VAL_IDS)})")
    parser.add_argument("--train-ids-file", type=cli_args.existing_file, action="append", default=[], metavar="FILE",
                        help="file of train ids, one per line ('#' comments)")
    parser.add_argument("--val-ids-file", type=cli_args.existing_file, action="append", default=[], metavar="FILE",
                        help="file of val ids, one per line")
    parser.add_argument("--start-sec", type=cli_args.non_negative_int, default=AVA_START_SEC,
                        help="first second of each video to keep (default: %(default)s, AVA's cut)")
    parser.add_argument("--end-sec", type=cli_args.positive_int, default=AVA_END_SEC,
                        help="end of the cut (default: %(default)s)")
    parser.add_argument("--fps", type=cli_args.positive_int, default=30,
                        help="frame rate of the extracted frames (default: 30)")
    parser.add_argument("--workers", type=cli_args.positive_int, default=2,
                        help="videos processed at a time (default: 2)")
    parser.add_argument("--no-clips", action="store_true", help="do not cut videos_15min/ (frames only)")
    parser.add_argument("--skip-missing", action="store_true",
                        help="build without requested ids that have no annotation rows instead of failing")
    parser.add_argument("--base-config", type=cli_args.existing_file, default=REPO_CONFIG,
                        help="config the written YAML inherits")
    parser.add_argument("--output-dir", type=Path, default=Path("output/ava_subset"),
                        help="OUTPUT_DIR of the written config (default: %(default)s)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(join_dash_ids(argv, ("--train-ids", "--val-ids")))
    train_ids, val_ids = ids_from_options(args)
    spec = SubsetSpec(annotations=args.annotations, out=args.out, train_ids=train_ids, val_ids=val_ids,
                      videos=args.videos, start_sec=args.start_sec, end_sec=args.end_sec, fps=args.fps,
                      workers=args.workers, clips=not args.no_clips, skip_missing=args.skip_missing,
                      base_config=args.base_config, output_dir=args.output_dir)
    print(format_summary(make_subset(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
