"""What an exported model carries besides its weights: how to build its inputs from a video, and its classes.

The same string map goes into an ``.onnx`` file's ``metadata_props`` and into a TorchScript file as the extra
file ``slowfast_custom.json``, so that the file alone (with onnxruntime and NumPy, or torch) is enough to score a
clip: ``EXAMPLE_SCRIPT`` does exactly that, and ``tools/export_model.py --print FILE`` shows both.
Values are strings (ONNX allows only those); lists and numbers are JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Optional

# Format name -> file suffix.
FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
# Sigmoid scores of float32 PyTorch and another runtime differ by rounding only (~1e-6);
# a wrong graph (a box in the wrong place, a missing layer) differs by far more.
DEFAULT_ATOL = 1e-4
# Bumped when a key changes meaning, so that a reader can refuse what it does not understand.
FORMAT_VERSION = "1"
TORCHSCRIPT_EXTRA_FILE = "slowfast_custom.json"
# Read by readers; the config text is long and shown only on request.
SUMMARY_KEYS = ("class_names", "colour_order", "pixel_scale", "mean", "std", "resize", "crop_size", "num_frames",
                "sampling_rate", "target_fps", "frame_step", "pathways", "boxes", "scores", "torchscript_needs")


def _class_names(cfg) -> List[str]:
    """Names of the model's outputs in order: the dataset's label map, else the demo's label file, else class_<i>."""
    from slowfast_custom.ava.formats import read_class_names_json, read_label_map

    count = int(cfg.MODEL.NUM_CLASSES)
    label_map = Path(cfg.AVA.ANNOTATION_DIR or "", cfg.AVA.LABEL_MAP_FILE)
    if cfg.AVA.ANNOTATION_DIR and label_map.is_file():
        names = [e.name for e in sorted(read_label_map(label_map), key=lambda e: e.id)]
        if len(names) == count:
            return names
    if cfg.DEMO.LABEL_FILE_PATH and Path(cfg.DEMO.LABEL_FILE_PATH).is_file():
        names = read_class_names_json(cfg.DEMO.LABEL_FILE_PATH)
        if len(names) == count:
            return names
    return [f"class_{i}" for i in range(count)]


def pathway_frames(cfg) -> List[Dict[str, object]]:
    """Each input pathway's name, frame count and which of the clip's frames it takes (as pack_pathway_output)."""
    frames = int(cfg.DATA.NUM_FRAMES)
    if cfg.MODEL.ARCH in cfg.MODEL.MULTI_PATHWAY_ARCH:
        alpha = int(cfg.SLOWFAST.ALPHA)
        return [{"name": "slow", "frames": frames // alpha,
                 "take": f"numpy.linspace(0, {frames - 1}, {frames // alpha}).astype(int) of the clip's frames "
                         f"(SLOWFAST.ALPHA {alpha})"},
                {"name": "fast", "frames": frames, "take": "all the clip's frames"}]
    return [{"name": "clip", "frames": frames, "take": "all the clip's frames"}]


def export_metadata(cfg, config_file: str = "") -> Dict[str, str]:
    """The string map describing ``cfg``'s model inputs and outputs (see the module docstring)."""
    # clip_to_tensor normalises the decoded BGR channels with MEAN/STD indexed in BGR order, then reorders.
    order = [0, 1, 2] if cfg.AVA.BGR else [2, 1, 0]
    mean = [float(cfg.DATA.MEAN[i]) for i in order]
    std = [float(cfg.DATA.STD[i]) for i in order]
    meta = {
        "slowfast_custom.format_version": FORMAT_VERSION,
        "class_names": json.dumps(_class_names(cfg)),
        "colour_order": "BGR" if cfg.AVA.BGR else "RGB",
        "pixel_scale": json.dumps(1 / 255),
        "mean": json.dumps(mean),
        "std": json.dumps(std),
        "resize": "short side to crop_size with bilinear interpolation (cv2.INTER_LINEAR), long side rounded down, "
                  "no crop; a frame whose short side already is crop_size is kept",
        "crop_size": json.dumps(int(cfg.DATA.TEST_CROP_SIZE)),
        "num_frames": json.dumps(int(cfg.DATA.NUM_FRAMES)),
        "sampling_rate": json.dumps(int(cfg.DATA.SAMPLING_RATE)),
        "target_fps": json.dumps(float(cfg.DATA.TARGET_FPS)),
        "frame_step": "sampling_rate * video_fps / target_fps frames apart, num_frames of them centred on the "
                      "keyframe: round(center - num_frames * step / 2 + k * step), clamped to the video",
        "pathways": json.dumps(pathway_frames(cfg)),
        "layout": "each pathway float32 B x 3 x T x H x W: (pixel * pixel_scale - mean) / std per channel",
        "boxes": "float32 N x 5 rows [clip index in the batch, x1, y1, x2, y2] in pixels of the resized frames "
                 "(source pixels times the long side's resize factor, clipped to the frame); N may be 0",
        "scores": "float32 N x len(class_names), sigmoid",
        "torchscript_needs": "import torchvision before torch.jit.load (the model runs torchvision::roi_align)",
        "config_file": config_file,
        "config": cfg.dump(),
    }
    return meta


def read_metadata(path) -> Dict[str, str]:
    """The metadata map of an exported ``.onnx`` (needs onnx) or TorchScript file ({} for a file without one)."""
    path = Path(path)
    if path.suffix == ".onnx":
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        return {p.key: p.value for p in model.metadata_props}
    import torch

    extra = {TORCHSCRIPT_EXTRA_FILE: ""}
    try:
        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except RuntimeError as err:
        if "torchvision" not in str(err):
            raise
        import torchvision  # noqa: F401  (registers torchvision::roi_align, which the model's graph calls)

        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    text = extra[TORCHSCRIPT_EXTRA_FILE]
    return json.loads(text) if text else {}


def describe(meta: Mapping[str, str], path: Optional[Path] = None, config: bool = False) -> str:
    """Readable text of ``meta``: the input recipe, then (with ``config``) the config it came from."""
    if not meta:
        return f"{path}: no slowfast_custom metadata (exported before metadata was written; export it again)"
    lines = [f"{path}:" if path else "exported model:"]
    width = max(len(k) for k in SUMMARY_KEYS)
    for key in SUMMARY_KEYS + ("layout", "config_file"):
        if key in meta:
            lines.append(f"  {key:<{width}}  {meta[key]}")
    if config:
        lines += ["  config:", *("    " + line for line in meta.get("config", "").splitlines())]
    return "\n".join(lines)


# A script that uses only the exported file, onnxruntime, NumPy and OpenCV: what --print shows a user, and what
# tests/deploy/test_metadata.py runs in a process that never imports slowfast_custom.
EXAMPLE_SCRIPT = '''\
"""Score the people of one clip of a video with an exported .onnx file, from its metadata alone.

    python score_clip.py MODEL.onnx VIDEO SECOND X1 Y1 X2 Y2 [X1 Y1 X2 Y2 ...]   (boxes in pixels of the video)
"""
import json
import sys

import cv2
import numpy as np
import onnxruntime

model, video, second = sys.argv[1], sys.argv[2], float(sys.argv[3])
boxes = np.array(sys.argv[4:], dtype=np.float32).reshape(-1, 4)
session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
get = lambda key: json.loads(meta[key])

capture = cv2.VideoCapture(video)
fps = capture.get(cv2.CAP_PROP_FPS)
frames = []
while True:
    ok, frame = capture.read()  # BGR
    if not ok:
        break
    frames.append(frame)
count = len(frames)

step = get("sampling_rate") * fps / get("target_fps")
center = int(round(second * fps))
indices = [min(max(int(round(center - get("num_frames") * step / 2 + k * step)), 0), count - 1)
           for k in range(get("num_frames"))]
size = get("crop_size")
height, width = frames[0].shape[:2]
if min(height, width) == size:
    new_h, new_w = height, width
elif width < height:
    new_h, new_w = int(np.floor(height / width * size)), size
else:
    new_h, new_w = size, int(np.floor(width / height * size))
clip = np.stack([cv2.resize(frames[i], (new_w, new_h), interpolation=cv2.INTER_LINEAR)
                 if (new_h, new_w) != (height, width) else frames[i] for i in indices]).astype(np.float32)
if meta["colour_order"] == "RGB":
    clip = clip[..., ::-1]
clip = (clip * get("pixel_scale") - np.array(get("mean"), np.float32)) / np.array(get("std"), np.float32)
clip = clip.transpose(3, 0, 1, 2)  # C x T x H x W

feed = {}
for pathway in get("pathways"):
    take = np.linspace(0, clip.shape[1] - 1, pathway["frames"]).astype(int)
    feed[pathway["name"]] = np.ascontiguousarray(clip[None, :, take], dtype=np.float32)
# As upstream's cv2_transform.scale_boxes: one factor, the long side's.
factor = new_w / width if width >= height else new_h / height
scaled = np.clip(boxes * factor, 0, [new_w - 1, new_h - 1, new_w - 1, new_h - 1])
feed["boxes"] = np.concatenate([np.zeros((len(boxes), 1), np.float32), scaled], axis=1).astype(np.float32)
scores = session.run(None, feed)[0]
for box, row in zip(boxes, scores):
    best = np.argsort(row)[::-1][:3]
    print(box.tolist(), [(get("class_names")[i], round(float(row[i]), 3)) for i in best])
print(json.dumps(scores.tolist()))
'''
