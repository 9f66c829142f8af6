"""PySlowFast's AVA model zoo: a checkpoint named by its zoo file name or a URL is downloaded once into torch's cache.

``TRAIN.CHECKPOINT_FILE_PATH: SLOWFAST_32x2_R101_50_50.pkl`` (the recipe's value) is used as a path when that file
exists; otherwise, for a name in ``ZOO_URLS`` or an ``http(s)://`` URL, the file is fetched as torchvision fetches
its weights (``torch.hub.download_url_to_file``: a progress bar, a temporary name renamed when complete) into
``torch.hub.get_dir()/checkpoints/`` (``$TORCH_HOME/hub/checkpoints``) and reused from there. The zoo publishes no
checksums, so the sha256 of a downloaded file is logged for the user to record. Offline, one line says which file to
download and where to put it. The file is then loaded as any checkpoint (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse

import torch

from slowfast_custom.errors import UserError

logger = logging.getLogger(__name__)

ZOO_ROOT = "https://dl.fbaipublicfiles.com/pyslowfast/model_zoo"
# The AVA v2.2 detectors of PySlowFast's MODEL_ZOO.md (trained on AVA; 80 classes, 60 evaluated).
ZOO_URLS = {
    "SLOWFAST_32x2_R101_50_50.pkl": f"{ZOO_ROOT}/ava/SLOWFAST_32x2_R101_50_50.pkl",
    "SLOWFAST_64x2_R101_50_50.pkl": f"{ZOO_ROOT}/ava/SLOWFAST_64x2_R101_50_50.pkl",
}


def cache_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def weights_url(path_or_name: str) -> str:
    """The URL a checkpoint setting names (itself, or the zoo's URL of a zoo file name); "" for a local path."""
    if urlparse(path_or_name).scheme in ("http", "https"):
        return path_or_name
    return ZOO_URLS.get(path_or_name, "") if "/" not in path_or_name else ""


def resolve_checkpoint(path_or_name: str, key: str = "TRAIN.CHECKPOINT_FILE_PATH") -> Path:
    """The local file for a checkpoint setting: an existing path as it is, else a zoo name or URL downloaded once."""
    local = Path(path_or_name).expanduser()
    if local.is_file():
        return local
    url = weights_url(path_or_name)
    if not url:
        return local  # not ours to fetch: the loader says that the file is missing
    name = urlparse(url).path.rsplit("/", 1)[-1]
    cached = cache_dir() / name
    if cached.is_file():
        logger.info("%s: using %s from torch's cache", key, cached)
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(cached), progress=True)
    except (URLError, OSError, RuntimeError) as err:
        reason = getattr(err, "reason", None) or err
        raise UserError(f"cannot download {name} ({reason}): download {url} and set {key} to the file, or put it at "
                        f"{cached} (torch.hub.get_dir()/checkpoints; TORCH_HOME moves it)") from None
    digest = hashlib.sha256(cached.read_bytes()).hexdigest()
    logger.info("%s: downloaded %s to %s (sha256 %s; the zoo publishes no checksum, keep this one to check later "
                "copies)", key, url, cached, digest)
    return cached
