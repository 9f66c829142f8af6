"""The README's commands are the tests' commands: every command shown in README.md and docs/*.md (a
``tools/X.py`` script, a ``make X`` target, a ``slowfast-custom X`` subcommand) is run by some test.

Commands are read from fenced code blocks and from inline code that starts with a command; a test "runs" a
tool when its source names the script (``run_tool("X.py", ...)``, ``REPO / "tools" / "X.py"``). The demo mode of
run_net.py (``DEMO.ENABLE True``) counts as a command of its own. A make target is covered when every tool
command of its recipe (and of the targets it depends on) is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Set

from conftest import REPO

FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
COMMAND_START = re.compile(r"^(\S*python3?\s|torchrun\s|make\s|slowfast-custom\s)")
TOOL = re.compile(r"tools/(\w+)\.py")
MAKE = re.compile(r"(?:^|[\s;&|(])make\s+([A-Za-z][\w-]*)")
CONSOLE = re.compile(r"(?:^|[\s;&|(])slowfast-custom\s+([a-z][\w-]*)")
DEMO_MODE = re.compile(r"DEMO\.ENABLE\s+True")
# Shown in the docs, run by no test: the benchmarks measure speed for minutes (their parts run in
# tests/benchmarks with --quick). The list must match exactly, so a new gap fails and a closed one is taken off.
KNOWN_GAPS = {"make benchmark"}


def doc_files() -> List[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def command_lines(text: str) -> List[str]:
    """The commands of a markdown text: fenced code lines (continuations joined) and inline commands."""
    lines: List[str] = []
    for block in FENCE.finditer(text):
        lines += re.sub(r"\\\n\s*", " ", block.group(2)).splitlines()
    outside = FENCE.sub("", text)
    lines += [span.strip() for span in INLINE.findall(outside) if COMMAND_START.match(span.strip())]
    return [line.split("#", 1)[0] if line.lstrip().startswith(("python", ".venv", "make", "torchrun", "slowfast"))
            else line for line in lines]


def commands_of(line: str) -> Set[str]:
    """Keys of the commands on one line: ``tools/X.py`` (``tools/run_net.py DEMO.ENABLE`` for the demo),
    ``make X``, ``slowfast-custom X``."""
    keys = set()
    for name in TOOL.findall(line):
        keys.add(f"tools/{name}.py")
        if name == "run_net" and DEMO_MODE.search(line):
            keys.add("tools/run_net.py DEMO.ENABLE")
    keys |= {f"make {target}" for target in MAKE.findall(line)}
    keys |= {f"slowfast-custom {sub}" for sub in CONSOLE.findall(line)}
    return keys


def documented_commands() -> Dict[str, Set[str]]:
    """``{command key: the doc files that show it}``."""
    found: Dict[str, Set[str]] = {}
    for path in doc_files():
        for line in command_lines(path.read_text(encoding="utf-8")):
            for key in commands_of(line):
                found.setdefault(key, set()).add(path.relative_to(REPO).as_posix())
    return found


def make_recipes() -> Dict[str, List[str]]:
    """``{target: its recipe lines and its prerequisites as "make X"}`` of the Makefile."""
    recipes: Dict[str, List[str]] = {}
    current = None
    text = re.sub(r"\\\n\s*", " ", (REPO / "Makefile").read_text())
    for line in text.splitlines():
        rule = re.match(r"^([A-Za-z][\w-]*)\s*:(?!=)(.*)$", line)
        if rule:
            current = rule.group(1)
            recipes[current] = [f"make {dep}" for dep in rule.group(2).split() if not dep.startswith("$")]
        elif line.startswith("\t") and current:
            recipes[current].append(line.strip())
        elif line.strip() and not line.startswith("#"):
            current = None
    return recipes


def sources_of_tests() -> str:
    here = Path(__file__).resolve()
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").rglob("*.py"))
                     if p.resolve() != here)


def is_run(key: str, tests: str, recipes: Dict[str, List[str]], seen: Set[str] = frozenset()) -> bool:
    if key.startswith("tools/"):
        script, _, mode = key.partition(" ")
        name = script.split("/")[1]
        named = re.search(rf"[\"'/]{re.escape(name)}[\"']", tests) is not None
        return named and (not mode or any(mode in chunk and name in chunk for chunk in tests.split("\ndef ")))
    if key.startswith("make "):
        target = key.split()[1]
        if target not in recipes or target in seen or re.search(rf"[\"']make[\"'],\s*[\"']{target}[\"']", tests):
            return target in recipes
        inner = {k for line in recipes[target] for k in commands_of(line.replace("$(PY)", "python"))}
        return all(is_run(k, tests, recipes, seen | {target}) for k in inner)
    sub = key.split()[1]
    if re.search(rf"slowfast-custom[\"']?,\s*[\"']{re.escape(sub)}[\"']|slowfast-custom {re.escape(sub)}\b"
                 rf"|_cli\(\s*[\"']{re.escape(sub)}[\"']", tests):
        return True
    # A subcommand is its tools/ script's main() (slowfast_custom/cli.py, dispatch tested in tests/test_cli.py):
    # it is run when that script is, in the same mode.
    from slowfast_custom.cli import COMMANDS

    if sub not in COMMANDS or not COMMANDS[sub][1]:
        return False
    tool = f"tools/{COMMANDS[sub][1]}" + (" DEMO.ENABLE" if sub == "demo" else "")
    return is_run(tool, tests, recipes, seen)


def test_the_reader_finds_every_kind_of_command():
    text = ("Run `python tools/annotate.py data --actions a.txt`, see `tools/x.py`.\n```bash\n"
            "make quickstart   # all of it\n.venv/bin/python tools/run_net.py --cfg c.yaml \\\n"
            "    DEMO.ENABLE True DEMO.INPUT_VIDEO v.mp4\nslowfast-custom extract clips/ --out d\n```\n")
    keys = set().union(*(commands_of(line) for line in command_lines(text)))
    assert keys == {"tools/annotate.py", "make quickstart", "tools/run_net.py", "tools/run_net.py DEMO.ENABLE",
                    "slowfast-custom extract"}


def test_every_documented_command_is_run_by_a_test():
    documented = documented_commands()
    assert any(k.startswith("tools/") for k in documented), "no command found in the docs: is the reader broken?"
    tests, recipes = sources_of_tests(), make_recipes()
    missing = {key: where for key, where in documented.items() if not is_run(key, tests, recipes)}
    assert set(missing) == KNOWN_GAPS, "commands shown in the docs that no test runs:\n" + "\n".join(
        f"  {key}  ({', '.join(sorted(where))})" for key, where in sorted(missing.items())) + (
        f"\nrun now, take them off KNOWN_GAPS: {sorted(KNOWN_GAPS - set(missing))}")
