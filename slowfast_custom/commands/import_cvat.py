"""Turn CVAT annotation files ("CVAT for video 1.1" or "CVAT for images 1.1") into an AVA-format dataset's annotations.

    python tools/import_cvat.py annotations.xml --data datasets/mine [--actions actions.txt] [--val-videos v2]

A person is a track (or box) of the label --label (default person); its
actions are the label's checkbox attributes (ticked: true) and select/radio
values (the default value: none). Writes DATA/annotations/ and
DATA/frame_lists/ as configs/Base-Customava.yaml reads them; prints the
training command. See docs/labelling.md.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.ava.formats import read_action_names, read_box_csv
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import video_id_arg
from slowfast_custom.errors import number_in, run_cli
from slowfast_custom.labelling.ava_writer import SplitSpec, ranges_by_video
from slowfast_custom.labelling.cvat import PERSON_LABEL, cvat_file_actions, import_cvat


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("cvat_files", nargs="+", type=Path, metavar="cvat_file",
                        help="CVAT annotations.xml (several: one dataset from all; one file per video)")
    parser.add_argument("--data", required=True, type=Path, help="dataset folder with frames/")
    parser.add_argument("--actions", type=Path, default=None,
                        help="the action list (default: the person label's checkbox attributes and select/radio "
                             "values, in order)")
    parser.add_argument("--label", default=PERSON_LABEL, help="the CVAT label the people were boxed with")
    parser.add_argument("--video", type=video_id_arg, default=None,
                        help="video id of a single video file (default: its source video's name)")
    cli_args.add_split_options(parser)
    parser.add_argument("--val-boxes", type=Path, default=None,
                        help="predicted-box CSV whose boxes validation scores (default: the labelled val boxes)")
    parser.add_argument("--fps", type=number_in(float, 0, low_ok=False), default=DEFAULT_FPS,
                        help="frame rate the frames were extracted at")
    parser.add_argument("--cvat-fps", type=number_in(float, 0, low_ok=False), default=None,
                        help="frame rate of the frames CVAT numbered (a task made from a video: the video's rate; "
                             "default --fps, a task made from the extracted frames)")
    parser.add_argument("--margin-sec", type=number_in(int, 0), default=DEFAULT_MARGIN_SEC,
                        help="seconds at each end of a video without keyframes")
    args = parser.parse_args(argv)
    actions = read_action_names(args.actions) if args.actions else cvat_file_actions(args.cvat_files, args.label)
    split = SplitSpec(val_videos=args.val_videos, train_videos=args.train_videos,
                      val_ratio=args.val_ratio, seed=args.seed, val_ranges=ranges_by_video(args.val_range),
                      split_distance_sec=args.split_distance)
    val_boxes = read_box_csv(args.val_boxes, "predicted") if args.val_boxes else None
    summary, stats = import_cvat(args.cvat_files, args.data, actions, split=split, fps=args.fps,
                                 cvat_fps=args.cvat_fps, video=args.video, label=args.label,
                                 margin_sec=args.margin_sec, val_predicted_boxes=val_boxes)
    print(stats.report())
    print(summary.report())
    print(f"train with:\n  {summary.train_command(args.fps)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
