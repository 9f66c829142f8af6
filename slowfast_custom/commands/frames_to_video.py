"""Encode a folder of frames (a dataset's frames/<video>/) into a video, e.g. to run the demo on it.

    python tools/frames_to_video.py datasets/synthetic/frames/synth_val_000 demo/synth_val_000.mp4 --fps 30

Name the video after the folder when its boxes come from the dataset's CSVs
(DEMO.PREDS_BOXES / DEMO.GT_BOXES match rows by the video file's name).
"""

import argparse
import sys

from slowfast_custom import cli_args
from slowfast_custom.errors import UserError, run_cli

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("frames", type=cli_args.existing_dir, help="folder of frames; sorted by name")
    parser.add_argument("out", type=cli_args.output_file, help="video to write (.mp4, .mkv, .avi, .webm)")
    parser.add_argument("--fps", type=cli_args.positive_float, default=30.0,
                        help="frame rate of the frames (default 30)")
    parser.add_argument("--max-frames", type=cli_args.non_negative_int, default=0,
                        help="encode only the first N frames (0: all)")
    args = parser.parse_args(argv)
    from slowfast_custom.demo.video_io import encode_images  # OpenCV and PyAV, once the command line is read

    if not args.frames.is_dir():
        raise UserError(f"{args.frames}: frames folder not found")
    paths = sorted(p for p in args.frames.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if args.max_frames > 0:
        paths = paths[: args.max_frames]
    count = encode_images(paths, args.out, args.fps)
    print(f"video: {args.out} ({count} frames at {args.fps:g} fps)")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
