"""Export a dataset's keyframes and tracked people as a VIA project (VIA 2, or VIA 3) for labelling actions.

    python tools/export_via.py --data datasets/mine --actions actions.txt [--format via3]

VIA 2 (default): writes DATA/via/images/<video>__<second>.jpg and
DATA/via/via_project.json; open via.html 2.x, Project > Load, tick each
person's actions, Project > Save.
VIA 3: writes DATA/via3/images/<video>_<frame>.jpg and
DATA/via3/via3_project.json; open via_image_annotator.html 3.0.x, open the
project (folder icon), tick each person's actions, save it (disk icon).
"""

import argparse
import sys

from slowfast_custom import cli_args
from slowfast_custom.ava.formats import read_action_names, read_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.ava.naming import video_id_arg
from slowfast_custom.errors import UserError, run_cli
from slowfast_custom.labelling.via import export_via
from slowfast_custom.labelling.via3 import export_via3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--data", required=True, type=cli_args.existing_dir, help="dataset folder with frames/")
    parser.add_argument("--actions", required=True, type=cli_args.existing_file,
                        help="action list: a .pbtxt label map or a text file with one action name per line")
    parser.add_argument("--tracks", type=cli_args.existing_file, default=None,
                        help="tracks file of tools/detect_and_track.py (default: DATA/detections/tracks.csv)")
    parser.add_argument("--no-tracks", action="store_true", help="export keyframes without boxes (draw them all)")
    parser.add_argument("--format", choices=("via2", "via3"), default="via2",
                        help="via2: via.html 2.x; via3: via_image_annotator.html 3.0.x")
    parser.add_argument("--out", type=cli_args.output_dir, default=None,
                        help="output folder (default: DATA/via, or DATA/via3)")
    parser.add_argument("--videos", nargs="*", type=video_id_arg, default=None,
                        help="only these videos (default: all in frames/)")
    parser.add_argument("--fps", type=cli_args.positive_float, default=DEFAULT_FPS,
                        help="frame rate the frames were extracted at")
    parser.add_argument("--margin-sec", type=cli_args.non_negative_int, default=DEFAULT_MARGIN_SEC,
                        help="seconds at each end of a video without keyframes")
    parser.add_argument("--image-path", default=None,
                        help="folder (or URL) prefix VIA loads the images from (default: absolute path of OUT/images/; "
                             "VIA 3: its file:// URL)")
    parser.add_argument("--name", default="slowfast_custom", help="VIA project name")
    parser.add_argument("--overwrite", action="store_true", help="replace a project that already holds labels")
    args = parser.parse_args(argv)
    actions = read_action_names(args.actions)
    tracks_path = args.tracks or args.data / "detections" / "tracks.csv"
    if args.no_tracks:
        tracks = []
    elif not tracks_path.is_file():
        raise UserError(f"{tracks_path}: tracks file not found; run tools/detect_and_track.py --data {args.data} "
                        "first, or pass --no-tracks to draw every box by hand")
    else:
        tracks = read_tracks_csv(tracks_path)
    export = export_via3 if args.format == "via3" else export_via
    out = args.out or args.data / ("via3" if args.format == "via3" else "via")
    summary = export(args.data / "frames", tracks, actions, out, videos=args.videos, fps=args.fps,
                     margin_sec=args.margin_sec, image_path=args.image_path, project_name=args.name,
                     overwrite=args.overwrite)
    print(f"{summary.images} keyframe images of {summary.videos} videos, {summary.regions} person boxes, "
          f"{len(actions)} actions")
    print(f"VIA project: {summary.project}")
    if not (args.image_path or "").startswith(("http://", "https://")):
        print("note: VIA opened from a web server (http://..., e.g. the hosted page) cannot read these images from "
              "disk; open its downloaded .html file instead, or serve the images folder over http and export with "
              "--image-path http://<host>/<path>/ (see docs/labelling.md)")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
