#!/usr/bin/env python3
"""Measure clip loading, training speed and demo throughput side by side; print a table, write JSON.

    python tools/benchmark.py --out output/benchmark.json            # the full run (see docs/BENCHMARKS.md)
    python tools/benchmark.py --quick --out /tmp/bench.json          # a smoke test of every part

(i) the train split's index at AVA v2.2's size (6.35 M frames, 210,795
keyframes): upstream's Ava vs Customava's first build and cache reopening,
memory, and loader-worker memory over an epoch; (a) clips/s of upstream
1.0's own Ava loader vs the plugin's Customava (and from its frame store,
made first and timed) on generated 1920x1080 JPEGs, with their outputs compared; (b) training
iterations/s, fp32 vs the fast path (the R101 32x2 recipe at batch 16 on
CUDA; the tiny config on a CPU, which the output says); (c) demo frames/s on
a 1080p clip. Each comparison runs its variants interleaved in one process.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

# benchmarks/ sits beside tools/ and is not installed with the plugin: import it from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.record import write_results
from benchmarks.runner import Settings, format_table, run_benchmark
from slowfast_custom import cli_args
from slowfast_custom.engine.logs import setup_logging
from slowfast_custom.errors import run_cli
from slowfast_custom.plugin import setup_plugin

PARTS = ("index", "loading", "training", "demo")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                     formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--out", type=cli_args.output_file, default=Path("output/benchmark/results.json"),
                        help="JSON results file")
    parser.add_argument("--data-dir", type=cli_args.output_dir, default=Path("datasets/benchmark_frames"),
                        help="generated frames (reused when complete; several hundred MB)")
    parser.add_argument("--work-dir", type=cli_args.output_dir, default=None,
                        help="scratch files; default: beside --out")
    parser.add_argument("--quick", action="store_true", help="tiny setting: checks that every part runs")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="measure only these parts")
    parser.add_argument("--loader-repeats", type=cli_args.positive_int, help="A/B repeats of the loading comparison")
    parser.add_argument("--train-steps", type=cli_args.positive_int, help="timed training steps per mode and repeat")
    parser.add_argument("--index-dir", type=cli_args.output_dir, default=None,
                        help="generated full-size annotation set (reused when complete; about 0.5 GB); "
                             "default: beside --data-dir")
    parser.add_argument("--index-repeats", type=cli_args.positive_int,
                        help="rounds of the index builds (each in a fresh process)")
    args = parser.parse_args(argv)
    setup_plugin()
    setup_logging()

    settings = Settings.for_machine(torch.cuda.is_available(), args.quick)
    changes = {"loader_repeats": args.loader_repeats, "train_steps": args.train_steps,
               "index_repeats": args.index_repeats}
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    work_dir = args.work_dir or args.out.parent / "work"
    results = run_benchmark(settings, args.data_dir, work_dir, args.only, args.index_dir)
    write_results(results, args.out, format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
