"""Turn labelled VIA files (VIA 2 or VIA 3) into the annotations and frame lists of an AVA-format dataset.

    python tools/import_via.py DATA/via/labelled.json --data datasets/mine --actions actions.txt [--val-ratio 0.2]
    python tools/import_via.py video1_finish.json video2_finish.json --data datasets/mine   # VIA 3 projects

Reads saved VIA 2 projects or VIA 2's exported annotations (.json or .csv),
or VIA 3 image-annotator projects (whose action attributes are the action
list when --actions is left out), and writes DATA/annotations/ and
DATA/frame_lists/ as configs/Base-Customava.yaml reads them; prints the
training command.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.ava.formats import read_action_names, read_box_csv, read_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.errors import UserError, run_cli
from slowfast_custom.labelling.ava_writer import SplitSpec, ranges_by_video
from slowfast_custom.labelling.exchange import TRACK_MATCH_IOU
from slowfast_custom.labelling.via import import_via, via_file_actions


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("via_files", nargs="+", type=cli_args.existing_file, metavar="via_file",
                        help="VIA 2 project .json or exported annotations .json/.csv, or VIA 3 project .json "
                             "(several: one dataset from all)")
    parser.add_argument("--data", required=True, type=cli_args.existing_dir, help="dataset folder with frames/")
    parser.add_argument("--actions", type=cli_args.existing_file, default=None,
                        help="the action list the project was exported with (VIA 2: required; VIA 3: default "
                             "the options of the project's action attributes, in order)")
    cli_args.add_split_options(parser)
    parser.add_argument("--val-boxes", type=cli_args.existing_file, default=None,
                        help="predicted-box CSV whose boxes validation scores (e.g. DATA/detections/"
                             "predicted_boxes.csv; those scored below AVA.DETECTION_SCORE_THRESH are not used); "
                             "default: the labelled val boxes, scored 1.0")
    parser.add_argument("--tracks", type=Path, default=None,
                        help="tracks file of tools/detect_and_track.py whose person ids boxes without one take "
                             "(default: DATA/detections/tracks.csv when it exists)")
    parser.add_argument("--no-tracks", action="store_true", help="give every box without a person id a new id")
    parser.add_argument("--match-iou", type=cli_args.positive_fraction, default=TRACK_MATCH_IOU,
                        help="least IoU between a box and a tracked box of its keyframe to take the track's id")
    parser.add_argument("--fps", type=cli_args.positive_float, default=DEFAULT_FPS,
                        help="frame rate the frames were extracted at")
    args = parser.parse_args(argv)
    actions = read_action_names(args.actions) if args.actions else via_file_actions(args.via_files)
    split = SplitSpec(val_videos=args.val_videos, train_videos=args.train_videos,
                      val_ratio=args.val_ratio, seed=args.seed, val_ranges=ranges_by_video(args.val_range),
                      split_distance_sec=args.split_distance)
    val_boxes = read_box_csv(args.val_boxes, "predicted") if args.val_boxes else None
    tracks_path = args.tracks or args.data / "detections" / "tracks.csv"
    if args.tracks and not args.tracks.is_file():
        raise UserError(f"{args.tracks}: tracks file not found; pass the tracks.csv of tools/detect_and_track.py")
    tracks = read_tracks_csv(tracks_path) if not args.no_tracks and tracks_path.is_file() else None
    summary, stats = import_via(args.via_files, args.data, actions, split=split, fps=args.fps,
                                val_predicted_boxes=val_boxes, tracks=tracks, min_iou=args.match_iou)
    print(stats.report())
    print(summary.report())
    print(f"train with:\n  {summary.train_command(args.fps)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
