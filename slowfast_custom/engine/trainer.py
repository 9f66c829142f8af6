"""Training and evaluation of AVA-style detectors with upstream's model, optimizer, LR policy and evaluator.

The loop follows upstream's ``tools/train_net.py`` for AVA (which the pinned
release does not ship): per-iteration LR from ``lr_policy``, BCE on the RoI
head's sigmoid outputs, checkpoints every ``TRAIN.CHECKPOINT_PERIOD`` epochs,
evaluation every ``TRAIN.EVAL_PERIOD``. Only rank 0 writes files.

A run killed at any point and resumed (``TRAIN.AUTO_RESUME``) ends with the
same weights as the uninterrupted run: every random draw derives from
(RNG_SEED, epoch), see ``engine/seeding.py``, and the checkpoint holds the
optimizer's, the grad scaler's and the evaluation history's state.
``train_summary.json`` is rewritten after every evaluation, with the history
of the earlier runs it continues.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import psutil
import torch
from slowfast.models import losses
from slowfast.models import optimizer as optim
from slowfast.models.model_builder import build_model
from slowfast.utils import distributed as du
from slowfast.utils import misc
from slowfast.utils.meters import ScalarMeter

from slowfast_custom import checkpoint as cu
from slowfast_custom.ava.formats import read_box_csv, read_exclusions, read_label_map
from slowfast_custom.data.custom_ava import keyframe_spec_from_cfg
from slowfast_custom.engine import evaluation, report
from slowfast_custom.engine.curves import TrainingCurves
from slowfast_custom.engine.loader import build_loader
from slowfast_custom.engine.logs import setup_logging
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.engine.seeding import derived_seed, seed_all
from slowfast_custom.engine.thresholds import THRESHOLDS_NAME, epoch_thresholds_name
from slowfast_custom.errors import UserError
from slowfast_custom.fileio import atomic_write_text, hold_folder
from slowfast_custom.inference import device_of, load_for_inference
from slowfast_custom.zoo import resolve_checkpoint

logger = logging.getLogger(__name__)


def _to_device(batch, device: torch.device):
    inputs, labels, _, meta = batch
    non_blocking = device.type == "cuda"
    inputs = [x.to(device, non_blocking=non_blocking) for x in inputs]
    boxes = meta["boxes"].to(device, non_blocking=non_blocking)
    return inputs, labels.to(device, non_blocking=non_blocking), boxes, meta


def _seed(cfg) -> None:
    np.random.seed(cfg.RNG_SEED)
    torch.manual_seed(cfg.RNG_SEED)


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 over every parameter and buffer, to compare replicas across ranks."""
    digest = hashlib.sha256()
    state = (model.module if hasattr(model, "module") else model).state_dict()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class Evaluator:
    """Collects predictions of one split across ranks and scores them on rank 0."""

    def __init__(self, cfg, dataset, split: str) -> None:
        self.cfg = cfg
        self.split = split
        self.video_names = dataset._video_idx_to_name
        ann = Path(cfg.AVA.ANNOTATION_DIR)
        self.label_map = read_label_map(ann / cfg.AVA.LABEL_MAP_FILE)
        self.excluded = read_exclusions(ann / cfg.AVA.EXCLUSION_FILE)
        spec = keyframe_spec_from_cfg(cfg, split)
        class_ids = {e.id for e in self.label_map}
        rows = read_box_csv(ann / cfg.AVA.GROUNDTRUTH_FILE, "gt")
        evaluation.check_label_map_coverage(rows, self.label_map, ann / cfg.AVA.GROUNDTRUTH_FILE,
                                            ann / cfg.AVA.LABEL_MAP_FILE)
        self.groundtruth = evaluation.groundtruth_from_rows(rows, class_ids, spec.second_stride, spec.valid_seconds)

    @torch.no_grad()
    def run(self, model: torch.nn.Module, loader, tag: str, weights: Optional[str] = None
            ) -> Optional[evaluation.EvalResult]:
        """Predict every keyframe of the loader; on rank 0 return the result, elsewhere None."""
        model.eval()
        device = device_of(self.cfg)
        precision = StepPrecision.from_cfg(self.cfg, device)
        precision.prepare_model(model)
        preds, boxes, metadata = [], [], []
        for batch in loader:
            inputs, _, box_tensor, meta = _to_device(batch, device)
            with precision.autocast():
                out = model(precision.prepare_inputs(inputs), box_tensor)
            preds.append(out.float().cpu())
            boxes.append(meta["ori_boxes"].cpu())
            metadata.append(meta["metadata"].cpu())
        local = [torch.cat(x) if x else torch.zeros(0) for x in (preds, boxes, metadata)]
        gathered = du.all_gather_unaligned(local)
        model.train()
        if du.get_rank() != 0:
            return None
        parts = [p for p in gathered if p[0].numel()]
        if not parts:
            raise UserError(f"the {self.split} split produced no predictions")
        all_preds, all_boxes, all_meta = (torch.cat([p[i] for p in parts]).numpy() for i in range(3))
        out_dir = Path(self.cfg.OUTPUT_DIR) / "eval"
        thresholds = cu.checkpoint_dir(self.cfg.OUTPUT_DIR) / THRESHOLDS_NAME if self.split == "val" else None
        return evaluation.evaluate(all_preds, all_boxes, all_meta, self.video_names, self.label_map,
                                   self.groundtruth, self.excluded, out_dir, tag, thresholds,
                                   self.cfg.TRAIN.THRESHOLD_FLOOR, weights)


@dataclass
class _Progress:
    """Iterations, smoothed loss, learning rate and ETA, logged every LOG_PERIOD iterations."""

    total_iters: int
    period: int
    start: float = 0.0
    done: int = 0

    def __post_init__(self) -> None:
        self.loss = ScalarMeter(max(1, self.period))
        self.start = time.perf_counter()

    def step(self, epoch: int, it: int, epoch_iters: int, loss: float, lr: float) -> None:
        self.done += 1
        self.loss.add_value(loss)
        if self.done % self.period and it + 1 != epoch_iters:
            return
        per_iter = (time.perf_counter() - self.start) / self.done
        eta = datetime.timedelta(seconds=int(per_iter * (self.total_iters - self.done)))
        rss = psutil.Process().memory_info().rss / 2**30
        logger.info("epoch %d iter %d/%d  loss %.4f  lr %.5f  %.2f s/it  ETA %s  RAM %.1f GiB",
                    epoch + 1, it + 1, epoch_iters, self.loss.get_win_median(), lr, per_iter, eta, rss)


def training_step(model, optimizer, loss_fun, batch, device: torch.device, precision: StepPrecision,
                  scaler: Optional[torch.amp.GradScaler], where: str) -> float:
    """One optimisation step on ``batch``; return the loss.

    ``where`` names the step in the error for a non-finite loss.
    """
    inputs, labels, boxes, _ = _to_device(batch, device)
    with precision.autocast():
        preds = model(precision.prepare_inputs(inputs), boxes)
    # Outside autocast and in fp32: BCE is not autocast-safe (CUDA refuses it) and needs fp32 logarithms.
    loss = loss_fun(preds.float(), labels)
    value = loss.item()
    if not math.isfinite(value):
        raise UserError(f"loss is {value} at {where}: lower SOLVER.BASE_LR or check the labels")
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # skipped when the scaled gradients overflowed
        scaler.update()
    return value


def _initial_weights(cfg, model, optimizer) -> Tuple[int, Dict]:
    """Resume from OUTPUT_DIR if allowed and possible, else fine-tune from TRAIN.CHECKPOINT_FILE_PATH.

    Returns the start epoch and the resumed checkpoint's dict (empty when not resuming).
    """
    resumed = cu.resume_last(cfg.OUTPUT_DIR, model, optimizer) if cfg.TRAIN.AUTO_RESUME else None
    if resumed is not None:
        last, start, data = resumed
        logger.info("Resumed from %s: starting at epoch %d", last, start + 1)
        return start, data
    if cfg.TRAIN.CHECKPOINT_FILE_PATH:
        cu.load_pretrained(model, resolve_checkpoint(cfg.TRAIN.CHECKPOINT_FILE_PATH), cfg.TRAIN.CHECKPOINT_TYPE)
    else:
        logger.info("No TRAIN.CHECKPOINT_FILE_PATH: training from random initialisation")
    return 0, {}


def _summary_path(cfg) -> Path:
    return Path(cfg.OUTPUT_DIR) / "train_summary.json"


def _restored_history(cfg, resumed: Dict, start_epoch: int) -> List[Dict]:
    """The evaluations of epochs 1..start_epoch: the resumed checkpoint's, completed by the summary
    the interrupted run wrote after it (the checkpoint is saved before its epoch's evaluation)."""
    entries = {e["epoch"]: e for e in resumed.get("history", [])}
    try:
        previous = json.loads(_summary_path(cfg).read_text(encoding="utf-8")).get("history", [])
    except (OSError, ValueError, AttributeError):  # none yet, or unreadable: the checkpoint's alone
        previous = []
    for entry in previous:
        if isinstance(entry, dict) and isinstance(entry.get("epoch"), int) and 0 < entry["epoch"] <= start_epoch:
            entries.setdefault(entry["epoch"], entry)
    return [entries[k] for k in sorted(entries)]


def train(cfg) -> Dict:
    """Train (and periodically evaluate) as configured; return the summary rank 0 writes."""
    with contextlib.ExitStack() as held:  # rank 0 holds OUTPUT_DIR from its first write to the end
        return _train(cfg, held)


def _train(cfg, held: contextlib.ExitStack) -> Dict:
    setup_logging()  # the console only until the data has been read: bad input leaves no output folder behind
    _seed(cfg)
    is_master = du.get_rank() == 0
    train_loader = build_loader(cfg, "train")
    val_loader = build_loader(cfg, "val") if cfg.TRAIN.EVAL_PERIOD > 0 else None
    evaluator = Evaluator(cfg, val_loader.dataset, "val") if val_loader is not None else None
    held.enter_context(hold_folder(cfg.OUTPUT_DIR, "OUTPUT_DIR") if is_master else contextlib.nullcontext())
    setup_logging(cfg.OUTPUT_DIR)
    if is_master:
        Path(cfg.OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(cfg.OUTPUT_DIR) / "config.yaml", cfg.dump())
        cu.remove_stale_temporaries(cfg.OUTPUT_DIR)
    model = build_model(cfg)
    logger.info("Model %s (%s), %.2fM parameters, device %s", cfg.MODEL.MODEL_NAME, cfg.MODEL.ARCH,
                misc.params_count(model) / 1e6, device_of(cfg))
    optimizer = optim.construct_optimizer(model, cfg)
    start_epoch, resumed = _initial_weights(cfg, model, optimizer)
    loss_fun = losses.get_loss_func(cfg.MODEL.LOSS_FUNC)(reduction="mean")
    device = device_of(cfg)
    epoch_iters = len(train_loader)
    progress = _Progress(epoch_iters * max(0, cfg.SOLVER.MAX_EPOCH - start_epoch), cfg.LOG_PERIOD)
    history = _restored_history(cfg, resumed, start_epoch)
    logger.info("Training epochs %d-%d, %d iterations each", start_epoch + 1, cfg.SOLVER.MAX_EPOCH, epoch_iters)

    curves = TrainingCurves(cfg, start_epoch, epoch_iters, active=is_master)
    precision = StepPrecision.from_cfg(cfg, device)
    precision.prepare_model(model)
    scaler = precision.grad_scaler()
    if scaler is not None and "grad_scaler" in resumed:
        scaler.load_state_dict(resumed["grad_scaler"])
    logger.info("Training step: %s", precision.describe())

    def write_summary(summary: Dict) -> None:
        if is_master:
            atomic_write_text(_summary_path(cfg), json.dumps(summary, indent=1) + "\n")

    def evaluate(epoch: int) -> None:
        result = evaluator.run(model, val_loader, f"val_epoch_{epoch + 1:05d}")
        if result is not None:
            logger.info("epoch %d val frame-mAP@0.5 %.4f (%d GT frames)", epoch + 1, result.frame_map,
                        result.num_gt_frames)
            curves.evaluation(epoch, result)
            calibrated = cu.checkpoint_dir(cfg.OUTPUT_DIR) / THRESHOLDS_NAME
            if calibrated.is_file():  # kept per epoch: the demo of a checkpoint uses the thresholds of its epoch
                atomic_write_text(calibrated.with_name(epoch_thresholds_name(epoch + 1)), calibrated.read_text())
        history.append({"epoch": epoch + 1, "val_frame_map": result.frame_map if result is not None else None})
        write_summary({"epochs": cfg.SOLVER.MAX_EPOCH, "completed_epochs": epoch + 1, "start_epoch": start_epoch,
                       "history": history, "world_size": du.get_world_size()})

    if (evaluator is not None and start_epoch > 0 and misc.is_eval_epoch(cfg, start_epoch - 1)
            and all(e["epoch"] != start_epoch for e in history)):
        logger.info("Evaluating epoch %d: the interrupted run saved its checkpoint but not its evaluation",
                    start_epoch)
        evaluate(start_epoch - 1)

    model.train()
    trained: List[int] = []  # dataset indices this rank trained on in the epoch (its shard)
    for epoch in range(start_epoch, cfg.SOLVER.MAX_EPOCH):
        # Everything random in this epoch from (RNG_SEED, epoch): a resumed epoch repeats the uninterrupted one.
        seed_all(derived_seed(cfg.RNG_SEED, epoch))
        if hasattr(train_loader.sampler, "set_epoch"):
            train_loader.sampler.set_epoch(epoch)
        trained.clear()
        for it, batch in enumerate(curves.batches(train_loader)):
            trained.extend(batch[2].tolist())
            lr = optim.get_epoch_lr(epoch + it / epoch_iters, cfg)
            optim.set_lr(optimizer, lr)
            loss = training_step(model, optimizer, loss_fun, batch, device, precision, scaler,
                                 f"epoch {epoch + 1} iteration {it + 1}")
            if is_master:
                progress.step(epoch, it, epoch_iters, loss, lr)
            curves.iteration(epoch, it, loss, lr)
        curves.end_epoch(epoch)

        last_epoch = epoch + 1 == cfg.SOLVER.MAX_EPOCH
        if is_master and ((epoch + 1) % cfg.TRAIN.CHECKPOINT_PERIOD == 0 or last_epoch):
            extra = {"history": list(history)}
            if scaler is not None:
                extra["grad_scaler"] = scaler.state_dict()
            path = cu.save_checkpoint(cfg.OUTPUT_DIR, model, optimizer, epoch, cfg, extra)
            logger.info("Saved %s", path)
        if evaluator is not None and misc.is_eval_epoch(cfg, epoch):
            evaluate(epoch)
        du.synchronize()

    digests = du.all_gather_unaligned(weights_digest(model))
    shards = du.all_gather_unaligned(trained)
    summary = {"epochs": cfg.SOLVER.MAX_EPOCH, "completed_epochs": cfg.SOLVER.MAX_EPOCH, "start_epoch": start_epoch,
               "history": history, "world_size": du.get_world_size(), "rank_weight_sha256": digests,
               # The last epoch's sharding: keyframes per rank, and how many more than one rank trained on.
               "rank_keyframes_trained": [len(s) for s in shards],
               "keyframes_trained_by_several_ranks": sum(map(len, shards)) - len(set().union(*shards))}
    write_summary(summary)
    if is_master:
        curves.close()
        logger.info("Report: %s", report.write_report(cfg.OUTPUT_DIR))
        if len(set(digests)) != 1:
            logger.error("Replicas diverged: weight digests differ across ranks %s", digests)
    return summary


def test(cfg) -> Optional[evaluation.EvalResult]:
    """Evaluate on the test split (AVA.TEST_LISTS / TEST_PREDICT_BOX_LISTS); write results to OUTPUT_DIR/eval."""
    # Rank 0 holds OUTPUT_DIR as training does: its eval/ and report.md would mix with another run's.
    with hold_folder(cfg.OUTPUT_DIR, "OUTPUT_DIR") if du.get_rank() == 0 else contextlib.nullcontext():
        return _test(cfg)


def _test(cfg) -> Optional[evaluation.EvalResult]:
    setup_logging(cfg.OUTPUT_DIR)
    _seed(cfg)
    model = build_model(cfg)
    path = load_for_inference(cfg, model)
    loader = build_loader(cfg, "test")
    result = Evaluator(cfg, loader.dataset, "test").run(model, loader, "test", str(path))
    if result is not None:
        logger.info("test frame-mAP@0.5 %.4f with %s (%d GT frames); files: %s", result.frame_map, path,
                    result.num_gt_frames, ", ".join(result.files.values()))
        logger.info("Report: %s", report.write_report(cfg.OUTPUT_DIR))
    return result
