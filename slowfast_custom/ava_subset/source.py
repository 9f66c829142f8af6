"""The AVA annotation set as given: ``ava_annotations.tar`` or its extracted folder, read in place.

Files are located by the folder holding ``ava_train_v2.2.csv`` (the archive's
root or one folder below it); the frame lists may sit in ``frame_lists/``
beside the CSVs or one level up (AVA's ``ava/annotations`` +
``ava/frame_lists`` layout). Nothing is extracted or written: inputs stay
untouched.
"""

from __future__ import annotations

import contextlib
import posixpath
import tarfile
from pathlib import Path
from typing import IO, Dict, Iterator, List, Optional

from slowfast_custom.ava.layout import (
    FRAME_LISTS_DIR,
    FULL_LABEL_MAP,
    LABEL_MAP,
    TRAIN_DETECTIONS,
    TRAIN_EXCLUSIONS,
    TRAIN_GT,
    TRAIN_LIST,
    TRAIN_PREDICTED,
    VAL_DETECTIONS,
    VAL_EXCLUSIONS,
    VAL_GT,
    VAL_LIST,
    VAL_PREDICTED,
)
from slowfast_custom.errors import UserError
from slowfast_custom.fileio import decode_lines

# The archive's files, by their names in the dataset layout (relative to the folder of the annotations).
TRAIN_FRAME_LIST = f"{FRAME_LISTS_DIR}/{TRAIN_LIST}"
VAL_FRAME_LIST = f"{FRAME_LISTS_DIR}/{VAL_LIST}"

REQUIRED = (TRAIN_GT, VAL_GT, TRAIN_EXCLUSIONS, VAL_EXCLUSIONS, LABEL_MAP, FULL_LABEL_MAP)
# Person boxes to train and test on: AVA's own detections (the recipe's) and the LFB release's predicted boxes
# (upstream's default AVA.TEST_PREDICT_BOX_LISTS). A subset needs the val file of at least one of them.
DETECTION_SOURCES = {"recipe": (TRAIN_DETECTIONS, VAL_DETECTIONS), "lfb": (TRAIN_PREDICTED, VAL_PREDICTED)}
DETECTIONS = tuple(name for pair in DETECTION_SOURCES.values() for name in pair)
OPTIONAL = (TRAIN_FRAME_LIST, VAL_FRAME_LIST) + DETECTIONS


class AnnotationSource:
    """Read-only access to the annotation files of a tar archive or a folder, by their AVA names."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tar: Optional[tarfile.TarFile] = None
        self.is_tar = self.path.is_file()
        if self.path.is_dir():
            # Only the folder and its sub-folders are looked at, never a recursive walk
            # (the user may point at an AVA root that also holds millions of frames).
            dirs = [""] + sorted(p.name + "/" for p in self.path.iterdir() if p.is_dir())
            exists = lambda rel: (self.path / rel).is_file()  # noqa: E731
        elif self.path.is_file():
            if not tarfile.is_tarfile(self.path):
                raise UserError(f"{self.path}: not a tar archive or a folder (expected ava_annotations.tar "
                                "or the folder it extracts to)")
            try:
                self._tar = tarfile.open(self.path, "r:*")
                members = {m.name[2:] if m.name.startswith("./") else m.name: m.name
                           for m in self._tar.getmembers() if m.isfile()}
            except (tarfile.TarError, OSError, EOFError) as err:
                raise UserError(f"{self.path}: cannot read the tar archive ({err})") from None
            self._members = members
            dirs = sorted((n[: -len(TRAIN_GT)] for n in members if posixpath.basename(n) == TRAIN_GT),
                          key=lambda p: (p.count("/"), p))
            exists = members.__contains__
        else:
            raise UserError(f"{self.path}: annotations not found (expected ava_annotations.tar or its folder)")
        prefix = next((d for d in dirs if exists(d + TRAIN_GT)), "")
        self._prefix = prefix
        if self._tar is not None:
            self._others = sorted(n[len(prefix):] for n in members if n.startswith(prefix))
        else:
            self._others = sorted(str(p.relative_to(self.path / prefix)).replace("\\", "/")
                                  for d in [self.path / prefix] + [p for p in (self.path / prefix).iterdir()
                                                                   if p.is_dir()]
                                  for p in d.iterdir() if p.is_file())
        self._files: Dict[str, str] = {rel: prefix + rel for rel in REQUIRED + OPTIONAL if exists(prefix + rel)}
        # AVA's own layout keeps the frame lists one level up: ava/annotations/ + ava/frame_lists/.
        if prefix:
            parent: Optional[str] = posixpath.dirname(prefix.rstrip("/"))
            parent = parent + "/" if parent else ""
        else:
            parent = None if self.is_tar else "../"
        for rel in OPTIONAL:
            if rel not in self._files and parent is not None and exists(parent + rel):
                self._files[rel] = parent + rel
        missing = [name for name in REQUIRED if name not in self._files]
        if not any(val in self._files for _, val in DETECTION_SOURCES.values()):
            missing.append(f"{VAL_DETECTIONS} (or {VAL_PREDICTED})")
        if missing:
            where = self._location(prefix.rstrip("/")) if prefix else str(self.path)
            self.close()
            raise UserError(f"{where}: missing annotation file{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}")

    def _location(self, rel: str) -> str:
        return f"{self.path}:{rel}" if self.is_tar else str(self.path / rel)

    # --- reading ---

    def has(self, name: str) -> bool:
        return name in self._files

    def other_files(self) -> List[str]:
        """Files beside the annotations (and one folder down) that are not AVA's by name, relative to them.

        Hidden files are left out; a file found under its AVA name is read as that file. These are kept as
        registered with ``add``: PySlowFast's layout holds more per-video files than AVA's archive."""
        known = {self._files[name][len(self._prefix):] for name in self._files}
        return [rel for rel in self._others if rel not in known and not posixpath.basename(rel).startswith(".")]

    def add(self, name: str) -> None:
        """Read ``name`` (relative to the annotations, from ``other_files``) like AVA's own files."""
        self._files[name] = self._prefix + name

    def display(self, name: str) -> str:
        """How errors name the file: a path, or ``archive.tar:member``."""
        return self._location(self._files[name])

    def local_path(self, name: str) -> Optional[Path]:
        """The file's path for a folder source (None inside a tar)."""
        return None if self.is_tar else (self.path / self._files[name]).resolve()

    @contextlib.contextmanager
    def open_binary(self, name: str) -> Iterator[IO[bytes]]:
        if not self.is_tar:
            with open(self.path / self._files[name], "rb") as f:
                yield f
            return
        f = self._tar.extractfile(self._members[self._files[name]])
        if f is None:
            raise UserError(f"{self.display(name)}: not a regular file in the archive")
        with f:
            yield f

    @contextlib.contextmanager
    def open_text(self, name: str) -> Iterator[Iterator[str]]:
        # Lines decoded one by one: a file that is not UTF-8 is named with its line; CRLF reads like LF.
        with self.open_binary(name) as raw:
            yield (line for _, line in decode_lines(raw, self.display(name)))

    def local_files(self) -> List[Path]:
        """The files read (the archive itself for a tar), for the check that no output overwrites one."""
        if self.is_tar:
            return [self.path.resolve()]
        return [self.local_path(name) for name in self._files]

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()
            self._tar = None

    def __enter__(self) -> "AnnotationSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
