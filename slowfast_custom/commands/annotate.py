"""Label actions by person track and time span in the browser.

    python tools/annotate.py DATASET [--actions FILE] [--model CFG CHECKPOINT] [--port 8765] [--host 127.0.0.1]

The first run makes DATASET/annotate_project.json from the tracks file
(tools/detect_and_track.py) or a VIA project (--import-via), with the action list
(--actions); later runs reopen it. Every change is saved at once; the page's
Export button writes annotations/ and frame_lists/. With --model, a trained
model's actions are shown as suggestions (Space accepts them). See docs/labelling.md.
"""

import argparse
import sys
from pathlib import Path

from slowfast_custom import cli_args
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC
from slowfast_custom.errors import run_cli
from slowfast_custom.labelling.app.workflow import (
    TRACKS_NAME,
    export_ava,
    model_suggestions,
    open_project,
    read_suggestions,
    write_suggestions,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=cli_args.HelpFormatter)
    parser.add_argument("dataset", type=Path, help="dataset folder with frames/ (and the tracks file)")
    parser.add_argument("--host", type=cli_args.local_host, default="127.0.0.1",
                        help="address to serve on (default: this machine only)")
    parser.add_argument("--port", type=cli_args.port, default=8765, help="port (0: any free one); default %(default)s")
    parser.add_argument("--model", nargs=2, type=cli_args.existing_file, metavar=("CFG", "CHECKPOINT"),
                        help="suggest actions with this trained model (saved in DATASET/annotate_suggestions.json, "
                             "which later runs show without --model)")
    new = parser.add_argument_group("a new project (refused once DATASET/annotate_project.json exists)")
    new.add_argument("--actions", type=cli_args.existing_file,
                     help="action list: a label map .pbtxt or one action name per line")
    new.add_argument("--tracks", type=cli_args.existing_file, help=f"tracks file (default DATASET/{TRACKS_NAME})")
    new.add_argument("--import-via", type=cli_args.existing_file,
                     help="continue from a VIA 2 project or its exported annotations")
    new.add_argument("--fps", type=cli_args.positive_float, default=DEFAULT_FPS,
                     help="frame rate of frames/ (default %(default)s)")
    new.add_argument("--margin", type=cli_args.non_negative_int, default=DEFAULT_MARGIN_SEC,
                     help="seconds left unlabelled at each end of a video (default %(default)s)")
    args = parser.parse_args(argv)
    if args.model:
        from slowfast_custom.plugin import setup_plugin

        setup_plugin()  # the model is upstream's: an unpatched upstream is one line naming the fix
    from slowfast_custom.labelling.app.server import serve

    project = open_project(args.dataset, actions_file=args.actions, tracks_file=args.tracks, via_file=args.import_via,
                           fps=args.fps, margin_sec=args.margin)
    if args.model:
        suggestions = model_suggestions(project, args.dataset, *args.model)
        write_suggestions(args.dataset, args.model[1], suggestions)
    else:
        suggestions = read_suggestions(args.dataset)
    serve(project, args.dataset, args.host, args.port, lambda p, options: export_ava(p, args.dataset, options),
          suggestions)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
