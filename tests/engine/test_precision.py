"""Mixed precision and channels-last: on for CUDA by default, and the CPU training step exactly as before."""

import copy
import math

import numpy as np
import pytest
import torch
from slowfast.models import losses
from slowfast.models import optimizer as optim
from slowfast.models.model_builder import build_model

from slowfast_custom.engine.loader import build_loader
from slowfast_custom.engine.precision import Float32Activation, StepPrecision
from slowfast_custom.engine.trainer import _to_device, train, training_step
from slowfast_custom.errors import UserError

from conftest import tiny_cfg

CPU, CUDA = torch.device("cpu"), torch.device("cuda", 0)


def test_defaults_resolve_to_fp32_contiguous_on_the_cpu(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path)
    assert (cfg.TRAIN.MIXED_PRECISION, cfg.TRAIN.MEMORY_FORMAT) == ("auto", "auto")
    precision = StepPrecision.from_cfg(cfg, CPU)
    assert precision.autocast_dtype is None and not precision.channels_last
    assert precision.grad_scaler() is None


@pytest.mark.parametrize("bf16_supported, dtype, scaled", [(True, torch.bfloat16, False), (False, torch.float16, True)])
def test_defaults_on_cuda_are_bf16_or_fp16_with_scaling(monkeypatch, bf16_supported, dtype, scaled):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    precision = StepPrecision.resolve("auto", "auto", CUDA)
    assert precision.autocast_dtype == dtype and precision.channels_last
    assert precision.needs_grad_scaler == scaled
    assert StepPrecision.resolve("fp32", "contiguous", CUDA) == StepPrecision(CUDA)


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="TRAIN.MIXED_PRECISION 'half'"):
        StepPrecision.resolve("half", "auto", CPU)
    with pytest.raises(UserError, match="TRAIN.MEMORY_FORMAT"):
        StepPrecision.resolve("auto", "nhwc", CPU)


def _model_and_batch(cfg):
    torch.manual_seed(0)
    model = build_model(cfg)
    batch = next(iter(build_loader(cfg, "train")))
    return model, batch


def _pre_change_step(model, optimizer, loss_fun, batch):
    """The trainer's step before mixed precision existed, verbatim."""
    inputs, labels, boxes, _ = _to_device(batch, CPU)
    preds = model(inputs, boxes)
    loss = loss_fun(preds, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def test_cpu_step_with_defaults_is_identical_to_the_pre_change_step(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path)
    model, batch = _model_and_batch(cfg)
    before = copy.deepcopy(model)
    loss_fun = losses.get_loss_func(cfg.MODEL.LOSS_FUNC)(reduction="mean")
    precision = StepPrecision.from_cfg(cfg, CPU)
    precision.prepare_model(model)
    torch.manual_seed(1)  # dropout
    new = training_step(model, optim.construct_optimizer(model, cfg), loss_fun, batch, CPU, precision,
                        precision.grad_scaler(), "test")
    torch.manual_seed(1)
    old = _pre_change_step(before, optim.construct_optimizer(before, cfg), loss_fun, batch)
    assert new == old
    for (name, a), b in zip(model.state_dict().items(), before.state_dict().values()):
        assert torch.equal(a, b), name


def test_bf16_channels_last_step_runs_on_the_cpu(tiny_dataset, tmp_path):
    cfg = tiny_cfg(tiny_dataset, tmp_path, "TRAIN.MIXED_PRECISION", "bf16", "TRAIN.MEMORY_FORMAT", "channels_last")
    model, batch = _model_and_batch(cfg)
    reference = copy.deepcopy(model)
    loss_fun = losses.get_loss_func(cfg.MODEL.LOSS_FUNC)(reduction="mean")
    precision = StepPrecision.from_cfg(cfg, CPU)
    assert precision.autocast_dtype == torch.bfloat16 and precision.channels_last
    precision.prepare_model(model)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv3d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d)

    inputs, _, boxes, _ = _to_device(batch, CPU)
    model.eval()
    reference.eval()
    logits = []
    model.head.projection.register_forward_hook(lambda module, args, out: logits.append(out.dtype))
    with precision.autocast():
        fast = model(precision.prepare_inputs(inputs), boxes)
    assert logits == [torch.bfloat16]  # the forward ran under autocast ...
    assert fast.dtype == torch.float32  # ... and the head's sigmoid in fp32
    with torch.no_grad():
        exact = reference(inputs, boxes)
    assert torch.allclose(fast.float(), exact, atol=0.05)

    model.train()
    loss = training_step(model, optim.construct_optimizer(model, cfg), loss_fun, batch, CPU, precision, None, "test")
    assert math.isfinite(loss)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("mixed", ["bf16", "fp16"])
def test_a_saturated_false_positive_still_gets_a_gradient_under_autocast(tiny_dataset, tmp_path, mixed):
    # A logit of 8 is a sigmoid of 0.99966: 1.0 exactly once rounded to bf16 (fp16 keeps it), and a sigmoid
    # output of exactly 1 gives BCE's gradient nothing to pass back for a negative label.
    cfg = tiny_cfg(tiny_dataset, tmp_path, "TRAIN.MIXED_PRECISION", mixed)
    model, batch = _model_and_batch(cfg)
    precision = StepPrecision.from_cfg(cfg, CPU)
    precision.prepare_model(model)
    precision.prepare_model(model)  # idempotent
    assert isinstance(model.head.act, Float32Activation) and not isinstance(model.head.act.inner, Float32Activation)
    assert list(model.state_dict()) == list(build_model(cfg).state_dict())  # checkpoints keep their keys
    with torch.no_grad():
        model.head.projection.weight.zero_()
        model.head.projection.bias.fill_(8.0)
    inputs, labels, boxes, _ = _to_device(batch, CPU)
    model.eval()  # no dropout
    with precision.autocast():
        preds = model(precision.prepare_inputs(inputs), boxes)
    assert torch.all(preds < 1.0)
    loss = losses.get_loss_func(cfg.MODEL.LOSS_FUNC)(reduction="mean")(preds, torch.zeros_like(labels))
    loss.backward()
    assert torch.all(model.head.projection.bias.grad > 0)


def test_fp16_training_scales_gradients_and_resume_restores_the_scaler(tiny_dataset, tmp_path):
    out = tmp_path / "fp16"
    common = ("TRAIN.MIXED_PRECISION", "fp16", "TRAIN.EVAL_PERIOD", "0", "TRAIN.AUTO_RESUME", "True")
    train(tiny_cfg(tiny_dataset, out, *common, "SOLVER.MAX_EPOCH", "1"))
    path = out / "checkpoints" / "checkpoint_epoch_00001.pyth"
    data = torch.load(path, weights_only=True)
    assert 1 <= data["grad_scaler"]["scale"] <= 2.0 ** 16  # the scaler ran (it starts at 2**16)
    # Give epoch 1 a scale the scaler never reaches by itself in a few steps: a scaler that restarted
    # instead of resuming would be back at 2**16 (or one halving per overflow below it).
    data["grad_scaler"]["scale"] = 4.0
    torch.save(data, path)

    train(tiny_cfg(tiny_dataset, out, *common, "SOLVER.MAX_EPOCH", "2"))
    resumed = torch.load(out / "checkpoints" / "checkpoint_epoch_00002.pyth", weights_only=True)
    assert resumed["grad_scaler"]["scale"] <= 4.0
    assert all(np.isfinite(v.float().numpy()).all() for v in resumed["model_state"].values())
