"""Write example AVA annotation files for chosen video ids, to try tools/make_subset.py without AVA's files.

    python tools/make_ava_files.py --out ava_example --train-ids=-5KQ66BBWC4,4ZpjKfu6Cl8 --val-ids=1j20qq1JyX4
    python tools/make_subset.py --annotations ava_example --out AVA --train-ids=-5KQ66BBWC4 --val-ids=1j20qq1JyX4

Writes every file of AVA v2.2's ava_annotations.tar under --out, with AVA's
names and formats and random boxes: ground truth and detections (one or two
people a second, seconds 902-1798), excluded seconds, the 80-class label map
and the 60-class one, and frame lists of the frames make_subset extracts from
AVA's 15-minute cut (--frames-per-video 0 leaves them out; make_subset then
needs --videos). Video ids are given as for make_subset (and default to its
ids): write --train-ids=-5KQ66BBWC4 for an id starting with "-"; several ids:
repeat the option, separate them with commas, or list them in a file
(--train-ids-file). Existing files are never overwritten. See docs/ava_subset.md.
"""

import argparse
import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

from slowfast_custom import cli_args
from slowfast_custom.ava_subset.build import AVA_END_SEC, AVA_START_SEC, VALID_MARGINS, SubsetSpec
from slowfast_custom.ava_subset.example_files import FIRST_SEC, LAST_SEC, ExampleSpec, file_names, write_example_files
from slowfast_custom.ava_subset.ids import DEFAULT_TRAIN_IDS, DEFAULT_VAL_IDS, ids_from_options, join_dash_ids
from slowfast_custom.errors import UserError, number_in, run_cli

# The frames make_subset extracts from each video with its default cut and frame rate.
DEFAULT_FRAMES = (AVA_END_SEC - AVA_START_SEC) * SubsetSpec.fps


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the annotation files to")
    parser.add_argument("--train-ids", action="append", default=[], metavar="IDS",
                        help=f"train video ids, comma separated (default: {','.join(DEFAULT_TRAIN_IDS)})")
    parser.add_argument("--val-ids", action="append", default=[], metavar="IDS",
                        help=f"val video ids (default: {','.join(DEFAULT_VAL_IDS)})")
    parser.add_argument("--train-ids-file", type=Path, action="append", default=[], metavar="FILE",
                        help="file of train ids, one per line ('#' comments)")
    parser.add_argument("--val-ids-file", type=Path, action="append", default=[], metavar="FILE",
                        help="file of val ids, one per line")
    parser.add_argument("--first-sec", type=number_in(int, 0), default=FIRST_SEC,
                        help="first annotated second (default: %(default)s, AVA's)")
    parser.add_argument("--last-sec", type=number_in(int, 0), default=LAST_SEC,
                        help="last annotated second (default: %(default)s, AVA's)")
    parser.add_argument("--frames-per-video", type=number_in(int, 0), default=DEFAULT_FRAMES,
                        help="rows per video in frame_lists/train.csv and val.csv; 0: no frame lists "
                        "(default: %(default)s, seconds 900-1801 at 30 fps)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the boxes and actions (default: 0)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(join_dash_ids(argv, ("--train-ids", "--val-ids")))
    train_ids, val_ids = ids_from_options(args)
    spec = ExampleSpec(train_ids=train_ids, val_ids=val_ids, first_sec=args.first_sec, last_sec=args.last_sec,
                       frames_per_video=args.frames_per_video, seed=args.seed)
    existing = [name for name in file_names(spec) if (args.out / name).exists()]
    if existing:
        raise UserError(f"{args.out / existing[0]} exists: write the example files to a new folder "
                        "(existing files are never overwritten)")
    rows, _ = write_example_files(args.out, spec)
    for name, count in rows.items():
        print(f"{count:9d} rows  {args.out / name}")
    command = ["--annotations", str(args.out), "--out", "AVA", f"--train-ids={','.join(train_ids)}",
               f"--val-ids={','.join(val_ids)}"]
    if (spec.first_sec, spec.last_sec) != (FIRST_SEC, LAST_SEC):  # the cut whose margins hold these seconds
        command += ["--start-sec", str(max(0, spec.first_sec - VALID_MARGINS[0])),
                    "--end-sec", str(spec.last_sec + VALID_MARGINS[1])]
    if not spec.frames_per_video:
        command += ["--videos", "VIDEOS_DIR"]
    print("try tools/make_subset.py on them:")
    print("  python tools/make_subset.py " + shlex.join(command))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
