"""Export detect-and-track's tracked people as CVAT video annotations ("CVAT 1.1"), to label their actions in CVAT.

    python tools/export_cvat.py --data datasets/mine --actions actions.txt

Writes DATA/cvat/<video>.xml per video and DATA/cvat/labels.json. In CVAT:
create a task from the video's frames (DATA/frames/<video>/, or the video at
the same frame rate) with the labels of labels.json (Raw), then Actions >
Upload annotations, format "CVAT 1.1", file <video>.xml. Label, export
"CVAT for video 1.1" and import it with tools/import_cvat.py.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.ava.formats import read_action_names, read_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava.naming import video_id_arg
from slowfast_custom.errors import UserError, number_in, run_cli
from slowfast_custom.labelling.cvat import PERSON_LABEL, export_cvat


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="dataset folder with frames/")
    parser.add_argument("--actions", required=True, type=Path,
                        help="action list: a .pbtxt label map or a text file with one action name per line")
    parser.add_argument("--tracks", type=Path, default=None,
                        help="tracks file of tools/detect_and_track.py (default: DATA/detections/tracks.csv)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: DATA/cvat)")
    parser.add_argument("--videos", nargs="*", type=video_id_arg, default=None,
                        help="only these videos (default: every video with tracks)")
    parser.add_argument("--fps", type=number_in(float, 0, low_ok=False), default=DEFAULT_FPS,
                        help="frame rate of the frames (and of the frames CVAT will number)")
    parser.add_argument("--label", default=PERSON_LABEL, help="the CVAT label of the people")
    parser.add_argument("--overwrite", action="store_true", help="replace annotation files already there")
    args = parser.parse_args(argv)
    actions = read_action_names(args.actions)
    tracks_path = args.tracks or args.data / "detections" / "tracks.csv"
    if not tracks_path.is_file():
        raise UserError(f"{tracks_path}: tracks file not found; run tools/detect_and_track.py --data {args.data} "
                        "first")
    summary = export_cvat(args.data / "frames", read_tracks_csv(tracks_path), actions, args.out or args.data / "cvat",
                          videos=args.videos, fps=args.fps, label=args.label, overwrite=args.overwrite)
    print(f"{summary.tracks} tracks, {summary.boxes} person boxes in {len(summary.files)} CVAT files, "
          f"{len(actions)} actions")
    print(f"labels for CVAT's raw label editor: {summary.labels}")
    for path in summary.files:
        print(f"upload as \"CVAT 1.1\": {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
