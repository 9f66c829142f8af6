"""Logging for multi-process runs: rank 0 logs to stdout and OUTPUT_DIR/stdout.log, other ranks only warnings."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from slowfast.utils import distributed as du

_FORMAT = "[%(asctime)s %(levelname)s %(name)s] %(message)s"


def setup_logging(output_dir: str = "") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_slowfast_custom", False):
            root.removeHandler(handler)
            handler.close()
    if du.get_rank() != 0:
        root.setLevel(logging.WARNING)
        return
    root.setLevel(logging.INFO)
    handlers = [logging.StreamHandler(sys.stdout)]
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(Path(output_dir) / "stdout.log"))
    for handler in handlers:
        handler._slowfast_custom = True
        handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(handler)
