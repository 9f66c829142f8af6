"""Train, test or demo a PySlowFast model with the slowfast-custom plugin.

    python tools/run_net.py --cfg configs/SLOWFAST_32x2_R101_custom.yaml [KEY VALUE ...]

TRAIN.ENABLE trains (and evaluates every TRAIN.EVAL_PERIOD epochs), TEST.ENABLE
evaluates, DEMO.ENABLE renders a video with boxes and actions. Several
processes: `torchrun --nproc_per_node N tools/run_net.py ...` or NUM_GPUS > 1.
"""

import sys

from slowfast_custom.config import default_argument_parser, load_config
from slowfast_custom.errors import run_cli
from slowfast_custom.plugin import setup_plugin


def main(argv=None) -> int:
    args = default_argument_parser(__doc__.strip().splitlines()[0]).parse_args(argv)
    # Before upstream's model code is imported: an unpatched upstream is one line naming the fix. It also
    # registers the dataset; spawned processes register when they unpickle engine.trainer's job or the dataset.
    setup_plugin()
    from slowfast_custom.engine.launch import launch_job
    from slowfast_custom.engine.trainer import test, train

    cfg = load_config(args)
    if cfg.DEMO.ENABLE:
        from slowfast_custom.demo.runner import run_demo

        summary = run_demo(cfg)  # one process: the demo writes one video, whatever NUM_GPUS says
        return 0 if summary.complete else 3  # 3: a live source ended early; the outputs hold what came
    if cfg.TRAIN.ENABLE:
        launch_job(cfg, args.init_method, train)
    if cfg.TEST.ENABLE:
        launch_job(cfg, args.init_method, test)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
