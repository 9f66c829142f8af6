"""What every benchmark's results share: the run's date, command and host; a plain-text table; the JSON file."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Dict, Sequence

import torch

from slowfast_custom.fileio import atomic_write_text


def host_info() -> Dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: Dict[str, object] = {"cpu": cpu, "cpu_cores": len(os.sched_getaffinity(0)), "torch": torch.__version__,
                               "python": platform.python_version()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    else:
        info["gpu"] = None
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def run_header() -> Dict[str, object]:
    """``date``, ``command`` and ``host``: the first keys of a results file."""
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
            "host": host_info()}


def host_line(results: Dict) -> str:
    host = results["host"]
    return f"host: {host['cpu']} ({host['cpu_cores']} cores), GPU: {host['gpu'] or 'none'}; {results['date']}"


def plain_table(rows: Sequence[Sequence[object]]) -> str:
    """``rows`` (the first one the header) in left-aligned columns, a rule under the header."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(results: Dict, path: Path, table: str) -> None:
    """Write ``results`` to ``path`` as JSON (atomically), then print ``table`` and where the results are."""
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")
    print(table)
    print(f"Results: {path}")
