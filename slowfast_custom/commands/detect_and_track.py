"""Detect and track people on a dataset's frames; write the keyframes' boxes with person ids.

    python tools/detect_and_track.py --data datasets/mine [--detector hog|torchvision_frcnn|yolo] [--track-fps 5]

Writes DATA/detections/tracks.csv (video_id,second,x1,y1,x2,y2,person_id,score)
and DATA/detections/predicted_boxes.csv (AVA predicted-box format); re-running
skips videos already done with the same settings.
"""

import argparse
import logging
import sys
from functools import partial

from slowfast_custom import cli_args
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC, DEFAULT_TRACK_FPS
from slowfast_custom.ava.naming import video_id_arg
from slowfast_custom.config import DETECTOR_SCORE_THRESH
from slowfast_custom.detection import BACKENDS, build_detector
from slowfast_custom.detection.prelabel import TrackingSpec, detect_and_track
from slowfast_custom.detection.tracking import EMBEDDERS, PersonTracker
from slowfast_custom.errors import run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--data", required=True, type=cli_args.existing_dir, help="dataset folder with frames/")
    parser.add_argument("--videos", nargs="*", type=video_id_arg, default=None,
                        help="only these videos (default: all in frames/)")
    parser.add_argument("--out", type=cli_args.output_dir, default=None,
                        help="output folder (default: DATA/detections)")
    parser.add_argument("--detector", choices=sorted(BACKENDS), default="hog",
                        help="person detector (hog needs no download; yolo is the optional AGPL extra)")
    parser.add_argument("--score-thresh", type=cli_args.fraction, default=DETECTOR_SCORE_THRESH,
                        help="keep person boxes scored at least this (default: %(default)s, as the demo's "
                             "DEMO.DETECTRON2_THRESH)")
    parser.add_argument("--weights", type=cli_args.optional(cli_args.existing_file), default="",
                        help="local weights file (yolo; torchvision_frcnn: default torch's cache, "
                        "downloaded on first use)")
    parser.add_argument("--device", type=cli_args.device, default="cpu",
                        help="cpu or cuda[:N] (torchvision_frcnn, yolo, tracker)")
    parser.add_argument("--fps", type=cli_args.positive_float, default=DEFAULT_FPS,
                        help="frame rate the frames were extracted at")
    parser.add_argument("--track-fps", type=cli_args.positive_float, default=DEFAULT_TRACK_FPS,
                        help="frames per second to detect and track on (the keyframes are always included)")
    parser.add_argument("--margin-sec", type=cli_args.non_negative_int, default=DEFAULT_MARGIN_SEC,
                        help="seconds at each end of a video without keyframes")
    parser.add_argument("--max-age", type=cli_args.positive_int, default=15,
                        help="tracked frames a person may be missed")
    parser.add_argument("--n-init", type=cli_args.positive_int, default=2, help="detections before an id is confirmed")
    parser.add_argument("--embedder", choices=EMBEDDERS, default="mobilenet",
                        help="appearance features of the tracker (histogram: faster on a CPU, weaker)")
    parser.add_argument("--overwrite", action="store_true", help="redo videos already done")
    parser.add_argument("--threads", type=cli_args.non_negative_int, default=0,
                        help="CPU threads for the detector and the tracker's features (0: the libraries' default; "
                             "1 is fastest on a busy shared machine)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        import cv2
        import torch

        cv2.setNumThreads(args.threads)
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("deep_sort_realtime").setLevel(logging.WARNING)  # its set-up banner
    detector = build_detector(args.detector, score_thresh=args.score_thresh, weights=args.weights, device=args.device)
    make_tracker = partial(PersonTracker, max_age=args.max_age, n_init=args.n_init, embedder=args.embedder,
                           gpu=args.device.startswith("cuda"))
    spec = TrackingSpec(fps=args.fps, track_fps=args.track_fps, margin_sec=args.margin_sec)
    summary = detect_and_track(
        args.data / "frames", args.videos, args.out or args.data / "detections", detector=detector,
        make_tracker=make_tracker, spec=spec, overwrite=args.overwrite,
        detector_settings={"name": args.detector, "score_thresh": args.score_thresh, "weights": args.weights,
                           "max_age": args.max_age, "n_init": args.n_init, "embedder": args.embedder})
    print(f"{summary.videos} videos ({summary.done} processed now, {summary.frames_tracked} frames in "
          f"{summary.seconds:.1f} s): {summary.boxes} boxes of {summary.persons} persons on "
          f"{summary.keyframes} keyframes")
    print(f"tracks: {summary.files['tracks']}\npredicted boxes: {summary.files['predicted_boxes']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
