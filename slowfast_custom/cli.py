"""The ``slowfast-custom`` console command: one subcommand per step of the workflow.

    slowfast-custom SUBCOMMAND [options]      # options as the matching tools/*.py script
    slowfast-custom SUBCOMMAND --help

Each subcommand is the ``main(argv)`` of a module of ``slowfast_custom.commands`` (or of
``slowfast_custom.upstream``), imported only when it runs: listing the commands imports
neither torch nor upstream.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Dict, Optional, Sequence, Tuple

from slowfast_custom.errors import run_cli

PROG = "slowfast-custom"

# subcommand -> (module with main(argv), the tools/ script of the same options, one-line help)
COMMANDS: Dict[str, Tuple[str, str, str]] = {
    "subset": ("slowfast_custom.commands.make_subset", "make_subset.py",
               "build a ready-to-train AVA subset from a few chosen videos"),
    "synthetic": ("slowfast_custom.commands.make_synthetic", "make_synthetic.py",
                  "generate the embedded synthetic dataset (the quick start's)"),
    "extract": ("slowfast_custom.commands.extract_frames", "extract_frames.py",
                "extract the frames of videos into a dataset folder"),
    "track": ("slowfast_custom.commands.detect_and_track", "detect_and_track.py",
              "detect and track people on a dataset's frames"),
    "label": ("slowfast_custom.commands.annotate", "annotate.py",
              "label actions by person track in the browser"),
    "import-via": ("slowfast_custom.commands.import_via", "import_via.py",
                   "turn labelled VIA files into an AVA-format dataset's annotations"),
    "export-via": ("slowfast_custom.commands.export_via", "export_via.py",
                   "export keyframes and tracked people as a VIA project"),
    "import-cvat": ("slowfast_custom.commands.import_cvat", "import_cvat.py",
                    "turn CVAT for video/images 1.1 annotations into an AVA-format dataset's annotations"),
    "export-cvat": ("slowfast_custom.commands.export_cvat", "export_cvat.py",
                    "export tracked people as CVAT video annotations to label in CVAT"),
    "ava-files": ("slowfast_custom.commands.make_ava_files", "make_ava_files.py",
                  "write example AVA annotation files, to try subset without AVA's"),
    "check": ("slowfast_custom.commands.check_dataset", "check_dataset.py",
              "check a dataset folder before training (--fix writes repaired copies)"),
    "prepare-frames": ("slowfast_custom.commands.prepare_frames", "prepare_frames.py",
                       "write the frames once at model size (the frame store) for faster loading"),
    "train": ("slowfast_custom.commands.run_net", "run_net.py",
              "train and evaluate (TRAIN.ENABLE, TEST.ENABLE), as upstream's run_net"),
    "demo": ("slowfast_custom.commands.run_net", "run_net.py",
             "render a video with boxes and actions (run_net with DEMO.ENABLE True)"),
    "export": ("slowfast_custom.commands.export_model", "export_model.py",
               "export a trained model to ONNX or TorchScript, checked; --print FILE describes one"),
    "frames-to-video": ("slowfast_custom.commands.frames_to_video", "frames_to_video.py",
                        "encode a folder of frames as a video"),
    "upstream": ("slowfast_custom.upstream", "", "check (--check), patch (--apply) or install (--install) "
                 "the pinned PySlowFast"),
    "configs": ("slowfast_custom.cli", "", "print where the packaged configs are, to copy one"),
}
# Overrides put after the user's: `demo` is `train` with the demo switched on.
TRAILING = {"demo": ("DEMO.ENABLE", "True")}


def configs_main(argv: Optional[Sequence[str]] = None) -> int:
    """``slowfast-custom configs``: the packaged configs' folder and names."""
    import argparse

    from slowfast_custom.resources import config_dir, packaged_configs

    argparse.ArgumentParser(prog=f"{PROG} configs", description=COMMANDS["configs"][2]).parse_args(argv)
    print(config_dir())
    for path in packaged_configs():
        print(f"  {path.name}")
    print(f"Use one by name (--cfg {packaged_configs()[-1].name}) or copy it, with the Base-*.yaml it names in "
          "_BASE_, and give the copy's path")
    return 0


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} SUBCOMMAND [options]   ({PROG} SUBCOMMAND --help for its options)", "",
             "AVA-style action detection on your own videos, as a plugin on PySlowFast.", "", "subcommands:"]
    lines += [f"  {name:<{width}}  {spec[2]}" for name, spec in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(version("slowfast-custom"))
        except PackageNotFoundError:
            print("slowfast-custom (not installed: run from a source tree)")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown subcommand {name!r}. Run {PROG} --help for the list", file=sys.stderr)
        return 2
    command = configs_main if name == "configs" else import_module(COMMANDS[name][0]).main
    # argparse names the program after sys.argv[0]: usage lines then show what the user typed.
    sys.argv = [f"{PROG} {name}", *rest]
    trailing = list(TRAILING.get(name, ()))
    if trailing and any(arg in ("-h", "--help") for arg in rest):
        trailing = []
    return run_cli(command, [*rest, *trailing])


if __name__ == "__main__":
    sys.exit(main())
