#!/usr/bin/env python3
"""Extract the frames of videos (any length, frame rate and container) into a dataset folder.

    python tools/extract_frames.py videos/ --out datasets/mine [--fps 30] [--workers 2]
    python tools/extract_frames.py clip.avi --out datasets/mine --id clip --start-sec 0 --end-sec 12

Writes DATASET/frames/<video>/<video>_%06d.jpg and DATASET/frame_lists/all.csv;
re-running skips videos already complete.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom.ava.formats import video_id_arg
from slowfast_custom.errors import number_in, run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("videos", nargs="+", type=Path, help="video files and/or folders of videos")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder (frames go to OUT/frames)")
    parser.add_argument("--fps", type=number_in(float, 0, low_ok=False), default=30.0,
                        help="frame rate to extract at (AVA.FPS; default 30)")
    parser.add_argument("--start-sec", type=number_in(float, 0), default=None,
                        help="first second to extract (default: 0)")
    parser.add_argument("--end-sec", type=number_in(float, 0, low_ok=False), default=None,
                        help="second to stop at (default: the end)")
    parser.add_argument("--id", type=video_id_arg, default=None,
                        help="video id for a single video (default: file name stem)")
    parser.add_argument("--quality", type=number_in(int, 1, 31), default=1, help="ffmpeg -q:v, 1 (best, AVA's) to 31")
    parser.add_argument("--workers", type=number_in(int, 1), default=2, help="videos extracted at the same time")
    args = parser.parse_args(argv)
    from slowfast_custom.video.extract import collect_videos, extract_dataset_frames

    videos = collect_videos(args.videos, args.id)
    results = extract_dataset_frames(videos, args.out, fps=args.fps, start_sec=args.start_sec, end_sec=args.end_sec,
                                     quality=args.quality, workers=args.workers)
    for r in results:
        print(f"{r.job.video_id}: {r.frames} frames{' (already complete)' if r.skipped else ''}")
    print(f"frames: {args.out / 'frames'}  frame list: {args.out / 'frame_lists' / 'all.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
