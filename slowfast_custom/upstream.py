"""The pinned PySlowFast release and the patches that make it run on current PyTorch.

PySlowFast is installed from PyPI (``slowfast==1.0``) without its dependencies
(its metadata asks for detectron2, which has no wheel) and then patched with
the unified diffs in ``slowfast_custom/upstream_patches/slowfast-1.0/``. The pin is the one
line of ``upstream_patches/pin.txt``; both are package data, so a wheel carries them.

Every file the patches touch is in one of three states, decided by hashes and
without running anything: ``pristine`` (the hash pip recorded when it
installed the wheel), ``patched`` (the hash in ``upstream_patches/.../SHA256SUMS``) or
``modified`` (anything else, e.g. edited by hand or a different release).

Command line::

    python -m slowfast_custom.upstream --check     # exit 0 only if pinned and patched
    python -m slowfast_custom.upstream --apply     # patch the installed release (idempotent)
    python -m slowfast_custom.upstream --install   # pip install the pin --no-deps, then --apply

This module uses the standard library (and ``slowfast_custom.errors``) only: it must work before upstream
is usable. ``slowfast_custom.plugin.setup_plugin()`` runs the check before upstream is imported.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from slowfast_custom import resources
from slowfast_custom.errors import UserError

FIX_COMMAND = "python -m slowfast_custom.upstream --install"
SUMS_NAME = "SHA256SUMS"


class UpstreamError(UserError):
    """The installed PySlowFast is missing, not the pinned release, or not patched (a tool prints one line)."""


@dataclass(frozen=True)
class UpstreamPin:
    distribution: str  # "slowfast"
    version: str  # "1.0"
    requirement: str  # "slowfast==1.0"
    patch_dir: Path  # folder of *.patch files and SHA256SUMS


@dataclass(frozen=True)
class UpstreamStatus:
    installed_version: Optional[str]
    site_dir: Optional[Path]  # the folder holding the `slowfast/` package
    files: Dict[str, str]  # relative path -> "pristine" | "patched" | "modified" | "missing"
    pin: UpstreamPin

    @property
    def pinned(self) -> bool:
        return self.installed_version == self.pin.version

    @property
    def patched(self) -> bool:
        return self.pinned and bool(self.files) and all(s == "patched" for s in self.files.values())

    def describe(self) -> str:
        if self.installed_version is None:
            return f"PySlowFast is not installed. Run: {FIX_COMMAND}"
        if not self.pinned:
            return (
                f"PySlowFast {self.installed_version} is installed but this plugin is pinned to "
                f"{self.pin.requirement}. Run: {FIX_COMMAND}"
            )
        bad = {f: s for f, s in self.files.items() if s != "patched"}
        if not bad:
            return f"{self.pin.requirement} at {self.site_dir} is installed and patched."
        listing = ", ".join(f"{f} ({s})" for f, s in sorted(bad.items()))
        return (
            f"{self.pin.requirement} at {self.site_dir} is not patched for this plugin: {listing}. "
            f"Run: {FIX_COMMAND}"
        )


def read_pin(pin_file: Optional[Path] = None) -> UpstreamPin:
    """The pin (``NAME==VERSION``, comments allowed) and its patch folder ``NAME-VERSION`` beside it."""
    pin_file = pin_file or resources.upstream_dir() / resources.PIN_FILE
    try:
        lines = [line.strip() for line in pin_file.read_text().splitlines()]
    except OSError as err:
        raise UpstreamError(f"{pin_file}: cannot read the upstream pin ({err.strerror}). "
                            "Reinstall slowfast-custom") from None
    requirements = [line for line in lines if line and not line.startswith("#")]
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)", requirements[0]) if len(requirements) == 1 else None
    if not match:
        raise UpstreamError(f"{pin_file}: must hold one line NAME==VERSION, got {requirements!r}")
    name, version = match.groups()
    return UpstreamPin(name, version, requirements[0], pin_file.parent / f"{name}-{version}")


def patch_files(patch_dir: Path) -> List[Path]:
    patches = sorted(patch_dir.glob("*.patch"))
    if not patches:
        raise UpstreamError(f"{patch_dir}: no *.patch files")
    return patches


def touched_files(patch_dir: Path) -> List[str]:
    """Paths (relative to site-packages, e.g. ``slowfast/models/head_helper.py``) the patches change."""
    touched = []
    for patch in patch_files(patch_dir):
        for line in patch.read_text().splitlines():
            if line.startswith("+++ b/"):
                touched.append(line[len("+++ b/") :].strip())
    return sorted(set(touched))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sums(patch_dir: Path) -> Dict[str, str]:
    sums = {}
    for line in (patch_dir / SUMS_NAME).read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def _recorded_hashes(distribution: str) -> Dict[str, str]:
    """sha256 hex digests pip wrote into the distribution's RECORD at install time."""
    dist = importlib.metadata.distribution(distribution)
    record = dist.read_text("RECORD") or ""
    hashes = {}
    for row in csv.reader(record.splitlines()):
        if len(row) >= 2 and row[1].startswith("sha256="):
            raw = base64.urlsafe_b64decode(row[1][len("sha256=") :] + "==")
            hashes[row[0]] = raw.hex()
    return hashes


def _site_dir(distribution: str) -> Path:
    dist = importlib.metadata.distribution(distribution)
    return Path(dist.locate_file("")).resolve()


def file_states(site_dir: Path, patch_dir: Path, pristine: Dict[str, str]) -> Dict[str, str]:
    patched = read_sums(patch_dir)
    states = {}
    for rel in touched_files(patch_dir):
        path = site_dir / rel
        if not path.is_file():
            states[rel] = "missing"
            continue
        digest = sha256_file(path)
        if digest == patched.get(rel):
            states[rel] = "patched"
        elif digest == pristine.get(rel):
            states[rel] = "pristine"
        else:
            states[rel] = "modified"
    return states


def status(pin: Optional[UpstreamPin] = None) -> UpstreamStatus:
    pin = pin or read_pin()
    try:
        version = importlib.metadata.version(pin.distribution)
    except importlib.metadata.PackageNotFoundError:
        return UpstreamStatus(None, None, {}, pin)
    site_dir = _site_dir(pin.distribution)
    states = file_states(site_dir, pin.patch_dir, _recorded_hashes(pin.distribution))
    return UpstreamStatus(version, site_dir, states, pin)


def require_patched() -> None:
    """Raise UpstreamError, naming the command that fixes it, unless upstream is pinned and patched."""
    current = status()
    if not current.patched:
        raise UpstreamError(current.describe())


def _git_apply(site_dir: Path, patches: Sequence[Path], reverse: bool = False) -> None:
    git = shutil.which("git")
    if git is None:
        raise UpstreamError(f"git is needed to apply the patches in {patches[0].parent} (apt-get install git)")
    args = [git, "apply", "-p1"] + (["--reverse"] if reverse else [])
    for check in (True, False):  # check every patch first, so nothing is half-applied
        for patch in patches:
            cmd = args + (["--check"] if check else []) + [str(patch)]
            result = subprocess.run(cmd, cwd=site_dir, capture_output=True, text=True)
            if result.returncode != 0:
                raise UpstreamError(f"{patch}: does not apply to {site_dir}: {result.stderr.strip()}")


def apply_patches(site_dir: Path, patch_dir: Path, pristine: Dict[str, str]) -> str:
    """Patch the upstream package under ``site_dir``; return what was done. Idempotent."""
    states = file_states(site_dir, patch_dir, pristine)
    if all(s == "patched" for s in states.values()):
        return "already patched"
    unexpected = {f: s for f, s in states.items() if s not in ("pristine", "patched")}
    if unexpected or "patched" in states.values():
        listing = ", ".join(f"{f} ({s})" for f, s in sorted(states.items()))
        raise UpstreamError(
            f"cannot patch {site_dir}: files are neither all pristine nor all patched: {listing}. "
            f"Reinstall upstream: pip install --force-reinstall --no-deps {read_pin().requirement}, then {FIX_COMMAND}"
        )
    _git_apply(site_dir, patch_files(patch_dir))
    after = file_states(site_dir, patch_dir, pristine)
    if not all(s == "patched" for s in after.values()):
        raise UpstreamError(f"patches applied but hashes differ from {patch_dir / SUMS_NAME}: {after}")
    return f"applied {len(patch_files(patch_dir))} patches"


def install(pin: UpstreamPin) -> str:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", pin.requirement], check=True
    )
    importlib.invalidate_caches()
    return apply_patches(_site_dir(pin.distribution), pin.patch_dir, _recorded_hashes(pin.distribution))


def write_sums(site_dir: Path, patch_dir: Path) -> None:
    """Developer tool: record the hashes of the patched files after editing the patches."""
    lines = [f"{sha256_file(site_dir / rel)}  {rel}" for rel in touched_files(patch_dir)]
    tmp = patch_dir / (SUMS_NAME + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, patch_dir / SUMS_NAME)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slowfast_custom.upstream", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true",
                       help="exit 0 only if the pinned release is installed and patched")
    group.add_argument("--apply", action="store_true",
                       help="apply the packaged patches to the installed release (idempotent)")
    group.add_argument("--install", action="store_true",
                       help="pip install the pinned release without deps, then --apply")
    group.add_argument("--write-sums", action="store_true", help="(developers) record hashes of the patched files")
    args = parser.parse_args(argv)
    try:
        pin = read_pin()
        if args.install:
            print(f"{pin.requirement}: {install(pin)}")
        elif args.apply:
            current = status(pin)
            if current.installed_version is None or not current.pinned:
                raise UpstreamError(current.describe())
            done = apply_patches(current.site_dir, pin.patch_dir, _recorded_hashes(pin.distribution))
            print(f"{pin.requirement}: {done}")
        elif args.write_sums:
            write_sums(_site_dir(pin.distribution), pin.patch_dir)
            print(f"wrote {pin.patch_dir / SUMS_NAME}")
        current = status(pin)
        print(current.describe())
        return 0 if current.patched else 1
    except UpstreamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
