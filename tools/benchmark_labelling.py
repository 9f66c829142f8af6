#!/usr/bin/env python3
"""Count the user actions to label every track in the labelling app, each way of labelling vs box by box.

    python tools/benchmark_labelling.py --out output/benchmark_labelling/results.json   # vtest.avi + synthetic
    python tools/benchmark_labelling.py --seconds 6 --synthetic-videos 2 1 --synthetic-epochs 1 \
        --out /tmp/labelling.json                                                       # a quick run

Random plans: extracts the frames of the video and detects and tracks the
people first (the tools' defaults; reused from --data-dir on later runs).
Model suggestions: makes synthetic videos and trains the tiny config on them
(reused from --synthetic-dir on later runs). Then a scripted person labels
every track in a headless Chromium (Playwright and Debian's chromium: make
setup browser-deps). Prints the counts and their ratios (see docs/labelling.md).
"""

import argparse
import logging
import sys
from pathlib import Path

# benchmarks/ sits beside tools/ and is not installed with the plugin: import it from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.labelling import (
    SyntheticSpec,
    default_data_dir,
    default_synthetic_dir,
    format_table,
    measure_labelling,
)
from benchmarks.record import write_results
from slowfast_custom import cli_args
from slowfast_custom.errors import run_cli

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--video", type=cli_args.existing_file, default=REPO.parent / "shared" / "data" / "vtest.avi",
                        help="video to label (default: ../shared/data/vtest.avi beside the repository)")
    parser.add_argument("--seconds", type=cli_args.positive_float, default=None,
                        help="use only the first SECONDS of the video (a quick run; default: all of it)")
    parser.add_argument("--data-dir", type=cli_args.output_dir, default=None,
                        help="frames and tracks of tools/extract_frames.py and tools/detect_and_track.py: reused "
                             "when its tracks file exists, made there otherwise (default: "
                             "datasets/benchmark_labelling/<video>[_<seconds>s])")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scripted person's actions")
    parser.add_argument("--threads", type=cli_args.non_negative_int, default=0,
                        help="CPU threads of the detector and tracker (detect_and_track.py --threads; 0: the "
                             "libraries' default, 1: fastest on a busy machine); the tracks are the same")
    defaults = SyntheticSpec()
    parser.add_argument("--synthetic-dir", type=cli_args.output_dir, default=None,
                        help="synthetic videos (data/) and the model trained on them (model/): reused when there, "
                             "made there otherwise (default: datasets/benchmark_labelling/synthetic_<TRAIN>_<LABEL>_"
                             "<epochs>e)")
    parser.add_argument("--synthetic-videos", type=cli_args.positive_int, nargs=2, metavar=("TRAIN", "LABEL"),
                        default=(defaults.train_videos, defaults.val_videos),
                        help="synthetic videos to train the model on and to label (default: %(default)s)")
    parser.add_argument("--synthetic-epochs", type=cli_args.positive_int, default=defaults.epochs,
                        help="epochs of the model's training (default: %(default)s)")
    parser.add_argument("--model", type=cli_args.existing_file, nargs=2, metavar=("CFG", "CHECKPOINT"),
                        help="suggest with this model instead of the one trained in --synthetic-dir")
    parser.add_argument("--no-synthetic", action="store_true", help="only the random plans on --video")
    parser.add_argument("--out", type=cli_args.output_file, default=Path("output/benchmark_labelling/results.json"),
                        help="JSON results file")
    args = parser.parse_args(argv)
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be > 0")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if min(args.synthetic_videos) < 1 or args.synthetic_epochs < 1:
        parser.error("--synthetic-videos and --synthetic-epochs must be >= 1")
    spec = SyntheticSpec(*args.synthetic_videos, args.synthetic_epochs)
    results = measure_labelling(args.video, args.data_dir or default_data_dir(args.video, args.seconds),
                                args.seconds, args.seed, args.threads,
                                None if args.no_synthetic else args.synthetic_dir or default_synthetic_dir(spec), spec,
                                tuple(args.model) if args.model else None)
    write_results(results, args.out, format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
