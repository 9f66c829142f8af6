"""Extract the frames of videos (any length, frame rate and container) into a dataset folder.

    python tools/extract_frames.py videos/ --out datasets/mine [--fps 30] [--workers 2]
    python tools/extract_frames.py clip.avi --out datasets/mine --id clip --start-sec 0 --end-sec 12

Writes DATASET/frames/<video>/<video>_%06d.jpg and DATASET/frame_lists/all.csv;
re-running skips videos already complete.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.ava.naming import video_id_arg
from slowfast_custom.errors import number_in, run_cli
from slowfast_custom.video.extract import collect_videos, extract_dataset_frames


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("videos", nargs="+", type=Path, help="video files and/or folders of videos")
    parser.add_argument("--out", required=True, type=cli_args.output_dir,
                        help="dataset folder (frames go to OUT/frames)")
    parser.add_argument("--fps", type=cli_args.positive_float, default=30.0,
                        help="frame rate to extract at (AVA.FPS; default 30)")
    parser.add_argument("--start-sec", type=cli_args.non_negative_float, default=None,
                        help="first second to extract (default: 0)")
    parser.add_argument("--end-sec", type=cli_args.positive_float, default=None,
                        help="second to stop at (default: the end)")
    parser.add_argument("--id", type=video_id_arg, default=None,
                        help="video id for a single video (default: file name stem)")
    parser.add_argument("--quality", type=number_in(int, 1, 31), default=1, help="ffmpeg -q:v, 1 (best, AVA's) to 31")
    parser.add_argument("--workers", type=cli_args.positive_int, default=2, help="videos extracted at the same time")
    args = parser.parse_args(argv)
    videos = collect_videos(args.videos, args.id)
    results = extract_dataset_frames(videos, args.out, fps=args.fps, start_sec=args.start_sec, end_sec=args.end_sec,
                                     quality=args.quality, workers=args.workers)
    for r in results:
        print(f"{r.job.video_id}: {r.frames} frames{' (already complete)' if r.skipped else ''}")
    print(f"frames: {args.out / 'frames'}  frame list: {args.out / 'frame_lists' / 'all.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
