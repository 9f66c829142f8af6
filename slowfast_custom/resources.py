"""Files shipped inside the package: the YAML configs, and the upstream pin with its patches.

They are package data (``slowfast_custom/configs/``, ``slowfast_custom/upstream_patches/``), found with
``importlib.resources`` so that a wheel, ``pip install .`` and ``pip install git+URL`` work like a clone.
Standard library only: ``slowfast_custom.upstream`` reads the pin before upstream is usable.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import List, Union

from slowfast_custom.errors import UserError

CONFIG_FOLDER = "configs"
UPSTREAM_FOLDER = "upstream_patches"
# One line, NAME==VERSION; the patches for it are in the folder NAME-VERSION beside it.
PIN_FILE = "pin.txt"


def package_path(*parts: str) -> Path:
    """A file or folder of the installed package, as a filesystem path (git and yacs need real files)."""
    root = importlib.resources.files(__package__)
    if not isinstance(root, Path):
        # A zipped install (zipimport) has no files to hand to git apply or yacs' _BASE_ resolution.
        raise UserError(f"slowfast_custom is installed as {root}, not as files. Install it with pip")
    return root.joinpath(*parts)


def config_dir() -> Path:
    """The folder of the packaged configs (copy one from here to change it)."""
    return package_path(CONFIG_FOLDER)


def packaged_configs() -> List[Path]:
    return sorted(config_dir().glob("*.yaml"))


def find_config(cfg_file: Union[str, Path]) -> Path:
    """``cfg_file`` if it exists, else the packaged config of the same file name.

    So ``--cfg SLOWFAST_32x2_R101_custom.yaml`` works from any folder, and ``--cfg configs/X.yaml``
    (what the docs show, as in a clone of upstream) works wherever the package is installed.
    """
    path = Path(cfg_file)
    if path.is_file():
        return path
    packaged = config_dir() / path.name
    if path.suffix in (".yaml", ".yml") and packaged.is_file():
        return packaged
    names = ", ".join(p.name for p in packaged_configs())
    raise UserError(f"{path}: config file not found, and no packaged config has that name. "
                    f"Give a path to a YAML file or one of: {names} (slowfast-custom configs shows where they are)")


def upstream_dir() -> Path:
    """The folder holding ``pin.txt`` and one folder of patches per pinned release."""
    return package_path(UPSTREAM_FOLDER)
