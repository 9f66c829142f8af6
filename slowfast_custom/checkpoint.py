"""Loading and saving checkpoints safely, in upstream's format.

* No checkpoint can run code when loaded: PyTorch files go through
  ``torch.load(weights_only=True)``; caffe2 pickles through an unpickler that
  only rebuilds numpy arrays. Anything else is refused with a CheckpointError.
* Fine-tuning from the model zoo (``SLOWFAST_32x2_R101_50_50.pkl`` is a PyTorch
  file despite its name) loads every tensor whose name and shape match, logs
  exactly which were not loaded (a head for another class count), and never
  takes the zoo's optimizer state or epoch.
* Saves go to a temporary name, fsynced and renamed, so resuming never finds a
  half-written file, even after a power loss; only ``checkpoint_epoch_NNNNN.pyth``
  names are resumed from. A full disk is one line naming the file; the
  checkpoints already saved stay intact. Temporary files of a killed save are
  removed when the next run starts (``remove_stale_temporaries``).
* Resuming takes the newest checkpoint that can be read; a newest one that
  cannot (truncated) is skipped with a warning naming it and the one used.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import numpy as np
import torch
from slowfast.utils.c2_model_loading import get_name_convert_func

from slowfast_custom import fileio
from slowfast_custom.errors import CheckpointError
from slowfast_custom.fileio import atomic_path

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = re.compile(r"^checkpoint_epoch_(\d{5})\.pyth$")

# The only globals a caffe2 checkpoint (a pickled dict of numpy arrays) needs.
_CAFFE2_SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
    # Protocol-2 pickles written by Python 3 store bytes as codecs.encode(str, "latin1"): a pure function.
    ("_codecs", "encode"),
}


class UnreadableCheckpoint(CheckpointError):
    """The file is not a checkpoint at all, or a truncated one (not: one that is refused as unsafe)."""


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _CAFFE2_SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed")


def _refuse(path: Path, detail: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: refused to load: the file holds Python objects that could run code when unpickled "
        f"({detail}). Only numpy/tensor weights are loaded. If you trust the file, re-save its "
        "state_dict with torch.save({'model_state': state_dict}, path) and load that."
    )


def read_checkpoint(path: Path, checkpoint_type: str = "pytorch") -> Dict:
    """Read a checkpoint file without executing code; return its dict.

    ``pytorch``: upstream's ``{"model_state", "optimizer_state", "epoch", "cfg"}`` or a bare state dict.
    ``caffe2``: ``{"blobs": {name: array}}`` as in upstream's caffe2 model zoo.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if checkpoint_type == "caffe2":
        try:
            with open(path, "rb") as f:
                data = _ArraysOnlyUnpickler(f, encoding="latin1").load()
        except pickle.UnpicklingError as err:
            raise _refuse(path, str(err)) from None
        except Exception as err:  # truncated or not a pickle at all
            raise UnreadableCheckpoint(f"{path}: not a readable caffe2 checkpoint ({err})") from None
        if not isinstance(data, dict) or "blobs" not in data:
            raise CheckpointError(f"{path}: a caffe2 checkpoint must be a dict with 'blobs'")
        return data
    if checkpoint_type != "pytorch":
        raise CheckpointError(f"checkpoint type {checkpoint_type!r}: use 'pytorch' or 'caffe2'")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch wraps every failure of its weights-only unpickler; a forbidden global is a refusal,
        # anything else (truncated or not a checkpoint at all) is unreadable.
        lines = [ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()]
        detail = next((ln for ln in lines if not ln.startswith(("Please file", "Check the documentation"))),
                      "weights-only load failed")
        if "global" in detail.lower():
            raise _refuse(path, detail) from None
        raise UnreadableCheckpoint(f"{path}: not a readable PyTorch checkpoint ({detail})") from None
    except Exception as err:
        raise UnreadableCheckpoint(f"{path}: not a readable PyTorch checkpoint ({type(err).__name__}: {err}). "
                              "For a caffe2 .pkl set TRAIN.CHECKPOINT_TYPE caffe2") from None
    if not isinstance(data, Mapping):
        raise CheckpointError(f"{path}: expected a dict, found {type(data).__name__}")
    return dict(data)


def _state_dict_from(data: Dict, path: Path) -> Dict[str, torch.Tensor]:
    if "model_state" in data:
        state = data["model_state"]
    elif "blobs" in data:
        convert = get_name_convert_func()
        state = OrderedDict()
        for name, value in data["blobs"].items():
            if isinstance(value, np.ndarray):
                state[convert(name)] = torch.from_numpy(np.ascontiguousarray(value))
        return state
    elif data and all(isinstance(v, torch.Tensor) for v in data.values()):
        state = data
    else:
        raise CheckpointError(f"{path}: no 'model_state' in checkpoint (keys: {sorted(data)[:8]})")
    # Checkpoints saved from a DistributedDataParallel wrapper prefix every name with "module.".
    return OrderedDict((k[len("module."):] if k.startswith("module.") else k, v) for k, v in state.items())


@dataclass
class LoadReport:
    """Which tensors a pretrained checkpoint filled, and which it did not."""

    loaded: List[str] = field(default_factory=list)
    shape_mismatch: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # in the model, not in the checkpoint
    unexpected: List[str] = field(default_factory=list)  # in the checkpoint, not in the model

    @property
    def not_loaded(self) -> List[str]:
        return sorted([k for k, _, _ in self.shape_mismatch] + self.missing)

    @property
    def complete(self) -> bool:
        return not self.not_loaded


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if hasattr(model, "module") else model


def load_pretrained(model: torch.nn.Module, path: Path, checkpoint_type: str = "pytorch") -> LoadReport:
    """Load matching weights into ``model`` (fine-tuning); the rest keep their fresh initialisation.

    Model-zoo optimizer state and epoch are ignored on purpose: fine-tuning starts at epoch 0.
    """
    path = Path(path)
    state = _state_dict_from(read_checkpoint(path, checkpoint_type), path)
    target = _unwrap(model)
    own = target.state_dict()
    report = LoadReport()
    to_load = OrderedDict()
    for name, value in state.items():
        if name not in own:
            report.unexpected.append(name)
        elif tuple(value.shape) != tuple(own[name].shape):
            report.shape_mismatch.append((name, tuple(value.shape), tuple(own[name].shape)))
        else:
            to_load[name] = value
            report.loaded.append(name)
    report.missing = sorted(k for k in own if k not in state and not k.endswith("num_batches_tracked"))
    if not report.loaded:
        raise CheckpointError(f"{path}: no tensor matches the model by name and shape; is MODEL.ARCH / "
                              "RESNET.DEPTH the checkpoint's?")
    target.load_state_dict(to_load, strict=False)
    logger.info("Loaded %d/%d tensors from %s", len(report.loaded), len(own), path)
    if report.shape_mismatch:
        logger.warning("NOT LOADED (shape differs, kept freshly initialised) from %s:\n%s", path,
                       "\n".join(f"  {k}: checkpoint {a} vs model {b}" for k, a, b in report.shape_mismatch))
    if report.missing:
        logger.warning("NOT LOADED (absent from checkpoint, kept freshly initialised):\n%s",
                       "\n".join(f"  {k}" for k in report.missing))
    if report.unexpected:
        logger.warning("Ignored %d checkpoint tensors the model does not have: %s", len(report.unexpected),
                       ", ".join(report.unexpected[:10]) + (" ..." if len(report.unexpected) > 10 else ""))
    return report


def checkpoint_dir(output_dir: str) -> Path:
    return Path(output_dir) / "checkpoints"


def checkpoint_path(output_dir: str, completed_epochs: int) -> Path:
    """Upstream's name for the checkpoint written after ``completed_epochs`` epochs."""
    return checkpoint_dir(output_dir) / f"checkpoint_epoch_{completed_epochs:05d}.pyth"


def checkpoints(output_dir: str) -> List[Path]:
    """The run's checkpoints, oldest first."""
    folder = checkpoint_dir(output_dir)
    if not folder.is_dir():
        return []
    found = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := CHECKPOINT_NAME.match(p.name)))
    return [p for _, p in found]


def best_saved(output_dir: str, scores: Iterable[Tuple[int, float]]) -> Optional[Tuple[Path, int, float]]:
    """(path, epoch, score) of the epoch with the highest score that has a checkpoint in ``output_dir`` (the later
    epoch on a tie); ``scores``: (completed epochs, validation score) pairs. None when no scored epoch was saved."""
    best: Optional[Tuple[Path, int, float]] = None
    for epoch, score in scores:
        path = checkpoint_path(output_dir, epoch)
        if path.is_file() and (best is None or score >= best[2]):
            best = (path, epoch, float(score))
    return best


def last_checkpoint(output_dir: str) -> Optional[Path]:
    found = checkpoints(output_dir)
    return found[-1] if found else None


def remove_stale_temporaries(output_dir: str) -> List[Path]:
    """Remove what a save killed before its rename left in the checkpoint folder (rank 0, at the start of a run)."""
    return fileio.remove_stale_temporaries(checkpoint_dir(output_dir), CHECKPOINT_NAME)


def save_checkpoint(output_dir: str, model: torch.nn.Module, optimizer, cur_epoch: int, cfg,
                    extra: Optional[Dict] = None) -> Path:
    """Write upstream's checkpoint after 0-based epoch ``cur_epoch``, atomically. Call on rank 0 only.

    As upstream: the file is ``checkpoint_epoch_{cur_epoch + 1:05d}.pyth`` and stores ``"epoch": cur_epoch``.
    """
    checkpoint = {
        "epoch": cur_epoch,
        "model_state": _unwrap(model).state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "cfg": cfg.dump(),
    }
    if extra:
        checkpoint.update(extra)
    path = checkpoint_path(output_dir, cur_epoch + 1)
    try:
        with atomic_path(path, durable=True) as tmp, open(tmp, "wb") as f:
            # Into a Python file, not a path: torch's own file writer reports a full disk only as
            # "unexpected pos"; through Python the OSError that names the cause is raised first.
            torch.save(checkpoint, f)
    except (OSError, RuntimeError) as err:
        cause = fileio.os_error_in(err)
        if cause is None:
            raise
        previous = last_checkpoint(output_dir)
        kept = f"; {previous} is intact (TRAIN.AUTO_RESUME continues from it)" if previous else ""
        raise fileio.write_error(path, cause, "the checkpoint", kept) from None
    return path


def resume(path: Path, model: torch.nn.Module, optimizer=None, data: Optional[Dict] = None) -> Tuple[int, Dict]:
    """Restore a run of our own: all weights (strictly) and optimizer state; return (next epoch, data).

    ``data``: the file's dict when already read.
    """
    if data is None:
        data = read_checkpoint(path, "pytorch")
    state = _state_dict_from(data, path)
    try:
        _unwrap(model).load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: does not fit the configured model ({str(err).splitlines()[0]}). "
                              "Resume with the config the run was started with, or use a new OUTPUT_DIR") from None
    if optimizer is not None and "optimizer_state" in data:
        optimizer.load_state_dict(data["optimizer_state"])
    return int(data.get("epoch", -1)) + 1, data


def resume_last(output_dir: str, model: torch.nn.Module, optimizer=None) -> Optional[Tuple[Path, int, Dict]]:
    """Resume from the newest readable checkpoint of the run in ``output_dir``: (its path, next epoch, its dict).

    None when there is no checkpoint. Newer checkpoints that cannot be read
    (truncated by a power loss) are skipped with a warning that names them and
    the one resumed from; when none can be read it is an error, not a fresh start.
    """
    found = checkpoints(output_dir)
    unreadable: List[str] = []
    for path in reversed(found):
        try:
            data = read_checkpoint(path, "pytorch")
        except UnreadableCheckpoint as err:
            unreadable.append(str(err))
            continue
        if unreadable:
            logger.warning("Cannot resume from the latest checkpoint: %s. Resuming from the previous checkpoint %s "
                           "instead", "; ".join(unreadable), path)
        start, data = resume(path, model, optimizer, data)
        return path, start, data
    if unreadable:
        raise CheckpointError(f"no checkpoint in {checkpoint_dir(output_dir)} can be read ({'; '.join(unreadable)}): "
                              "move them away to train from the start, or set another OUTPUT_DIR")
    return None
