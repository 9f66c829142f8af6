"""Imports stay light and one-way: tools that need no model start without torch, and no module imports itself back.

The layer rules themselves are import-linter contracts in pyproject.toml (``lint-imports``, run by ``make lint``);
these tests keep what a contract cannot express: what a tool's process really loads, and cycles between modules.
"""

import itertools
import subprocess
import sys

import pytest

from conftest import REPO, TINY_CFG

# Tools that need no model, and what they may load only after their command line is read (OpenCV and PyAV for
# the tools that read or write images and videos): --help loads none of it.
MODEL_FREE_TOOLS = ("check_dataset", "export_via", "import_via", "make_subset", "extract_frames", "annotate",
                    "frames_to_video", "prepare_frames")
HEAVY = ("torch", "torchvision", "slowfast", "cv2", "av", "flask")


def imported_packages(*args: str) -> set:
    """Top-level packages a fresh interpreter imports to run ``args``, from ``-X importtime``."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    assert names, "no -X importtime output"
    return names


@pytest.mark.parametrize("tool", MODEL_FREE_TOOLS)
def test_model_free_tool_help_imports_nothing_heavy(tool):
    loaded = imported_packages(str(REPO / "tools" / f"{tool}.py"), "--help")
    assert not loaded & set(HEAVY), f"tools/{tool}.py --help imports {sorted(loaded & set(HEAVY))}"


def test_importing_the_package_has_no_side_effects():
    loaded = imported_packages("-c", "import slowfast_custom, slowfast_custom.errors, slowfast_custom.plugin")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_library_of_the_model_free_tools_is_torch_free():
    # What the model-free tools import once their command line is read, and a CPU config loaded as they load it.
    code = (
        "import argparse, sys\n"
        "import slowfast_custom.ava_subset.build, slowfast_custom.check.dataset, slowfast_custom.labelling.via\n"
        "import slowfast_custom.labelling.via3, slowfast_custom.labelling.app.workflow, slowfast_custom.video.extract\n"
        "from slowfast_custom.config import load_config\n"
        f"load_config(argparse.Namespace(cfg_file={str(TINY_CFG)!r}, opts=['NUM_GPUS', '0']))\n"
    )
    loaded = imported_packages("-c", code)
    assert not loaded & {"torch", "torchvision"}, sorted(loaded & {"torch", "torchvision"})


def test_check_dataset_runs_without_torch(tiny_dataset):
    loaded = imported_packages(str(REPO / "tools" / "check_dataset.py"), str(tiny_dataset), "--cfg", str(TINY_CFG))
    assert "torch" not in loaded


def _cycles(graph, package: str):
    """Strongly connected components (of more than one module) of ``package``'s import graph (Tarjan)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = itertools.count()

    def visit(module):
        index[module] = low[module] = next(counter)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith(package + "."):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for module in modules:
        if module not in index:
            visit(module)
    return found


# Cycles tolerated for now (none); an entry here that is no longer a cycle fails too, so the list only shrinks.
KNOWN_CYCLES: set = set()


def test_no_import_cycles_between_modules():
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (the test extra)")
    graph = grimp.build_graph("slowfast_custom", cache_dir=None)
    cycles = set(_cycles(graph, "slowfast_custom"))
    assert not cycles - KNOWN_CYCLES, f"import cycles: {sorted(cycles - KNOWN_CYCLES)}"
    assert not KNOWN_CYCLES - cycles, f"no longer cycles, remove them from KNOWN_CYCLES: {KNOWN_CYCLES - cycles}"


def test_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (the test extra)")
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic import b\n")
    (package / "b.py").write_text("def f():\n    from cyclic import c\n")  # an import inside a function counts
    (package / "c.py").write_text("import cyclic.a\n")
    (package / "d.py").write_text("import cyclic.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles(grimp.build_graph("cyclic", cache_dir=None), "cyclic") == [("cyclic.a", "cyclic.b", "cyclic.c")]
