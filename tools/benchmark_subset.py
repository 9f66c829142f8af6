#!/usr/bin/env python3
"""Time tools/make_subset.py's filtering on a generated full-size AVA annotation set.

    python tools/benchmark_subset.py            # half and full AVA size (about 0.6M and 1.2M rows)

Prints seconds, rows per second and the peak growth of resident memory for
each size: the filter streams, so memory stays flat while the input doubles.
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path

# benchmarks/ sits beside tools/ and is not installed with the plugin: import it from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.subset import benchmark
from slowfast_custom import cli_args
from slowfast_custom.ava_subset.example_files import ExampleSpec
from slowfast_custom.errors import run_cli


def main(argv=None) -> int:
    full = ExampleSpec()
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--scales", type=cli_args.positive_float, nargs="+", default=[0.5, 1.0],
                        help="input sizes as fractions of AVA's number of videos (default: 0.5 1.0)")
    parser.add_argument("--seconds", type=cli_args.positive_int, default=full.last_sec - full.first_sec + 1,
                        help="annotated seconds per video (default: AVA's %(default)s)")
    parser.add_argument("--frames-per-video", type=cli_args.positive_int, default=30,
                        help="frame-list rows per video (AVA's real lists: 27030; default: %(default)s)")
    parser.add_argument("--work-dir", type=cli_args.output_dir,
                        help="where to write the generated files (default: the temp dir)")
    args = parser.parse_args(argv)
    print(f"{'videos':>7} {'rows':>10} {'seconds':>8} {'rows/s':>11} {'peak RSS growth':>16}")
    for scale in args.scales:
        spec = replace(full, train_videos=max(1, round(full.train_videos * scale)),
                       val_videos=max(1, round(full.val_videos * scale)),
                       last_sec=full.first_sec + args.seconds - 1, frames_per_video=args.frames_per_video)
        result = benchmark(spec, args.work_dir)
        print(f"{spec.train_videos + spec.val_videos:7d} {result.rows:10d} {result.seconds:8.2f} "
              f"{result.rows_per_second:11,.0f} {result.peak_rss_growth / 2**20:13.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
