"""Config: upstream's defaults plus the plugin's keys, loaded like a detectron2 project.

``get_cfg()`` clones upstream's defaults and calls ``add_custom_config``;
``load_config(args)`` merges the YAML (which may inherit with ``_BASE_``) and
the ``KEY VALUE`` overrides, fills derived paths, checks the result and
freezes it. Loading has no side effects: it creates no folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional, Sequence

from fvcore.common.config import CfgNode

from slowfast_custom import cli_args
from slowfast_custom.config_checks import OVERRIDES, Where, check_values, merge_overrides, merge_yaml_file
from slowfast_custom.errors import UserError
from slowfast_custom.resources import find_config

# A person detector's score threshold by default, the demo's (DEMO.DETECTRON2_THRESH) and detect-and-track's
# (--score-thresh): one value, so that the demo finds the people pre-labelling found.
DETECTOR_SCORE_THRESH = 0.5

# Values of TRAIN.MIXED_PRECISION and TRAIN.MEMORY_FORMAT ("auto": chosen for the device, engine/precision.py).
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")

# Upstream 1.0 has no MODEL.MODEL_NAME; later releases name the model class with it.
_MODEL_NAME_TO_ARCHS = {"SlowFast": ("slowfast",), "ResNet": ("slowonly", "c2d", "i3d")}


def add_custom_config(cfg: CfgNode) -> None:
    """Add the plugin's keys, and the keys of later upstream releases its YAMLs use, to ``cfg``."""
    # --- Keys of later PySlowFast releases (their demo YAML uses them) ---
    # Model class name; must agree with MODEL.ARCH ("SlowFast" <-> slowfast).
    cfg.MODEL.MODEL_NAME = "SlowFast"
    # Final activation of the head; AVA detection is multi-label, so sigmoid.
    cfg.MODEL.HEAD_ACT = "sigmoid"
    # Frame rate the model's DATA.SAMPLING_RATE is defined at (AVA models: 30).
    cfg.DATA.TARGET_FPS = 30

    cfg.TENSORBOARD = CfgNode()
    # Write TensorBoard event files of training: loss and lr per iteration, data-wait share, val frame-mAP and
    # per-class AP per epoch (slowfast_custom/engine/curves.py).
    cfg.TENSORBOARD.ENABLE = False
    # Folder for the event files, relative to OUTPUT_DIR; empty: OUTPUT_DIR/runs-<TRAIN.DATASET>.
    cfg.TENSORBOARD.LOG_DIR = ""
    cfg.TENSORBOARD.MODEL_VIS = CfgNode()
    # Accepted for upstream's YAMLs; the plugin draws no model-internals visualisations.
    cfg.TENSORBOARD.MODEL_VIS.ENABLE = False
    cfg.TENSORBOARD.MODEL_VIS.TOPK = 1

    _add_demo_config(cfg)

    # --- Dataset layout: one root instead of four paths ---
    # AVA.FRAME_DIR / ANNOTATION_DIR / FRAME_LIST_DIR left empty are filled as
    # DATA.PATH_TO_DATA_DIR/frames, /annotations, /frame_lists.
    cfg.AVA.FRAME_DIR = ""
    cfg.AVA.ANNOTATION_DIR = ""
    cfg.AVA.FRAME_LIST_DIR = ""
    # Frame rate of the extracted frames in frames/ (AVA's recipe extracts at 30).
    cfg.AVA.FPS = 30
    # Video second of the first extracted frame (AVA's 15-minute cuts start at 900).
    cfg.AVA.START_SEC = 0
    # [first, last] annotated seconds to use; empty: every annotated second that has frames.
    cfg.AVA.VALID_SECONDS = []
    # Without AVA.FULL_TEST_ON_VAL, validation uses every n-th annotated second (upstream: 4).
    cfg.AVA.VAL_SECOND_STRIDE = 4
    # Largest action id the data may use; 0: MODEL.NUM_CLASSES.
    cfg.AVA.MAX_ACTION_ID = 0
    # Train and val seconds of one video closer than the clip's span stop training (validation would score frames
    # it trained on; disjoint time ranges are fine); True allows it, e.g. for a deliberate overfitting test.
    cfg.AVA.ALLOW_SPLIT_OVERLAP = False

    _add_performance_config(cfg)
    _add_scale_config(cfg)


def _add_scale_config(cfg: CfgNode) -> None:
    # Cache the keyframe index (arrays; slowfast_custom/data/compact_index.py) in FRAME_LIST_DIR/index_cache/,
    # rebuilt when a frame list, box file or the relevant AVA.* value changes; False: build it on every start.
    cfg.AVA.INDEX_CACHE = True
    # Frames at the model's resolution, written once by tools/prepare_frames.py (slowfast_custom/data/frame_store.py):
    # "auto" reads <AVA.FRAME_DIR>_<size>/ when it is prepared at a large enough size, "off" never, or a folder.
    cfg.DATA_LOADER.FRAME_STORE = "auto"


def _add_performance_config(cfg: CfgNode) -> None:
    # Largest JPEG decode reduction (1, 2, 4 or 8; libjpeg DCT scaling) used where it divides both frame sides and
    # keeps the short side >= the size the transform scales to (slowfast_custom/data/frame_decode.py); 1: full size.
    cfg.DATA_LOADER.MAX_DECODE_REDUCTION = 8
    # Decode frames with nvJPEG on the process's GPU (loader workers are then spawned, not forked).
    cfg.DATA_LOADER.GPU_DECODE = False
    # Keep each worker's last clip of decoded frames: consecutive keyframes of a batch share half their frames.
    cfg.DATA_LOADER.FRAME_CACHE = True
    # Autocast of the training step and evaluation: "auto" (bf16 on CUDA, fp16 + gradient scaling on GPUs
    # without bf16, fp32 on the CPU), "bf16", "fp16" (with gradient scaling) or "fp32". The CPU runs bf16 and
    # fp16 too (the tests use that), but slower than fp32 without bf16/fp16 instructions.
    cfg.TRAIN.MIXED_PRECISION = "auto"
    # Memory format of the model and its inputs: "auto" (channels_last on CUDA, contiguous on the CPU),
    # "channels_last" or "contiguous".
    cfg.TRAIN.MEMORY_FORMAT = "auto"
    # Calibrated thresholds (thresholds.json) are at least this times the class's prevalence (its share of the
    # validation person boxes); 0: no floor (engine/thresholds.py).
    cfg.TRAIN.THRESHOLD_FLOOR = 1.0
    # Which checkpoint of OUTPUT_DIR the test pass, the demo and the export load when TEST.CHECKPOINT_FILE_PATH is
    # empty: "best" (the saved epoch with the highest validation frame-mAP, train_summary.json) or "last".
    cfg.TEST.CHECKPOINT_CHOICE = "best"


def _add_demo_config(cfg: CfgNode) -> None:
    cfg.DEMO = CfgNode()
    # Run the demo (a video in, a video with boxes and actions out) instead of train/test.
    cfg.DEMO.ENABLE = False
    # ava.json-style {"class name": index} file naming the model outputs.
    cfg.DEMO.LABEL_FILE_PATH = ""
    # Camera to read live (index N: /dev/videoN) instead of DEMO.INPUT_VIDEO; -1: off.
    cfg.DEMO.WEBCAM = -1
    # Input video (any container PyAV opens), or a stream URL (rtsp, rtmp, http(s), udp, tcp) read live.
    cfg.DEMO.INPUT_VIDEO = ""
    # Output video path.
    cfg.DEMO.OUTPUT_FILE = ""
    # Output frame rate; -1: the input's. Every input frame is written once, so another rate plays faster or slower.
    cfg.DEMO.OUTPUT_FPS = -1
    # Resize the output to this size; 0: the input's.
    cfg.DEMO.DISPLAY_WIDTH = 0
    cfg.DEMO.DISPLAY_HEIGHT = 0
    # Upstream's detectron2 person detector (config name and weights). The plugin
    # maps them to torchvision's Faster R-CNN; see DEMO.DETECTOR.
    cfg.DEMO.DETECTRON2_CFG = "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"
    cfg.DEMO.DETECTRON2_WEIGHTS = ""
    # Person score threshold of the detector (upstream: 0.9); the default is tools/detect_and_track.py's too.
    cfg.DEMO.DETECTRON2_THRESH = DETECTOR_SCORE_THRESH
    # Person detector (slowfast_custom.detection): "torchvision_frcnn" (upstream's detectron2 stand-in), "hog", "yolo".
    cfg.DEMO.DETECTOR = "torchvision_frcnn"
    # Detector weights file (torchvision .pth, YOLO .pt); empty: the backend's default location.
    # DEMO.DETECTRON2_WEIGHTS is detectron2's format and not read.
    cfg.DEMO.DETECTOR_WEIGHTS = ""
    # Give each person a stable id across predictions (tracker of slowfast_custom.detection.tracking), and draw
    # each person's tracked box on every frame, with the actions of the track's latest prediction.
    cfg.DEMO.TRACK = False
    # With DEMO.TRACK, frames per second the tracker sees (each one detected): ids stay stable as people move,
    # and the boxes of the frames between are interpolated.
    cfg.DEMO.TRACK_FPS = 5
    # Seconds between predictions (each on a clip centred on its moment); DEMO.PREDS_BOXES uses AVA's 1 s.
    cfg.DEMO.PREDICTION_STRIDE_SEC = 1.0
    # Most actions drawn per person (both VIS_MODEs); in "top-k" mode, exactly this many.
    cfg.DEMO.TOPK = 3
    # Mixed precision as TRAIN.MIXED_PRECISION says ("auto": bf16 or fp16 on CUDA, fp32 on the CPU); False: fp32.
    cfg.DEMO.AMP = True
    # Render only the first seconds of the input; 0: all of it.
    cfg.DEMO.MAX_SECONDS = 0
    # The demo's action model: "pytorch" (the checkpoint) or "onnxruntime" (DEMO.ONNX_FILE, tools/export_model.py).
    cfg.DEMO.BACKEND = "pytorch"
    # The exported .onnx file that DEMO.BACKEND onnxruntime runs.
    cfg.DEMO.ONNX_FILE = ""
    # onnxruntime's threads (DEMO.BACKEND onnxruntime); 0: OMP_NUM_THREADS if set, else one per core.
    cfg.DEMO.NUM_THREADS = 0
    # Live input (camera, stream): the bound on latency, from a keyframe decoded to its prediction written (the
    # clip's look-ahead, half its span, included): a prediction that would end later is skipped; the reader keeps
    # at most twice this many seconds of frames (dropping the oldest, whose time the output video keeps).
    cfg.DEMO.LIVE_MAX_DELAY = 2.0
    # Live input: seconds to wait for the stream to open or for its next packet before it counts as lost.
    cfg.DEMO.STREAM_TIMEOUT = 10
    # Upstream's streaming keys, accepted for its YAMLs.
    cfg.DEMO.BUFFER_SIZE = 0
    cfg.DEMO.INPUT_FORMAT = "BGR"
    cfg.DEMO.CLIP_VIS_SIZE = 10
    cfg.DEMO.NUM_VIS_INSTANCES = 2
    cfg.DEMO.THREAD_ENABLE = False
    cfg.DEMO.NUM_CLIPS_SKIP = 0
    cfg.DEMO.SLOWMO = 1
    # Precomputed person boxes (AVA predicted-box CSV, rows of the video named like the input file) instead of a
    # detector; boxes below AVA.DETECTION_SCORE_THRESH are dropped, as in the test split.
    cfg.DEMO.PREDS_BOXES = ""
    # Ground-truth boxes (AVA CSV) drawn as an overlay.
    cfg.DEMO.GT_BOXES = ""
    # Video second of the input's first frame, for the predictions' seconds and the CSVs' rows; None: 0, the
    # video's own time (upstream: 900, which only AVA's 15-minute cuts start at).
    cfg.DEMO.STARTING_SECOND = None
    # Frame rate assumed for an input whose container states none (upstream: of an image folder).
    cfg.DEMO.FPS = 30
    # "thres": show classes above their threshold; "top-k": the k best; "calibrated": each class above its own
    # threshold from DEMO.THRESHOLDS_FILE (chosen on the validation split), the global one where it has none.
    cfg.DEMO.VIS_MODE = "thres"
    # Per-class thresholds for VIS_MODE "calibrated"; empty: thresholds.json next to the demo's checkpoint.
    cfg.DEMO.THRESHOLDS_FILE = ""
    # Thresholds for common and uncommon classes (upstream's AVA demo values).
    cfg.DEMO.COMMON_CLASS_THRES = 0.7
    cfg.DEMO.UNCOMMON_CLASS_THRES = 0.3
    cfg.DEMO.COMMON_CLASS_NAMES = [
        "watch (a person)",
        "talk to (e.g., self, a person, a group)",
        "listen to (a person)",
        "touch (an object)",
        "carry/hold (an object)",
        "walk",
        "sit",
        "lie/sleep",
        "bend/bow (at the waist)",
    ]


def get_cfg() -> CfgNode:
    """Upstream's defaults with the plugin's keys added."""
    try:
        # Upstream's defaults import no torch; tools that only read a config (check_dataset) stay torch-free.
        from slowfast.config.defaults import get_cfg as get_upstream_cfg
    except ImportError:
        from slowfast_custom.upstream import UpstreamError, status

        raise UpstreamError(status().describe()) from None
    cfg = get_upstream_cfg()
    add_custom_config(cfg)
    return cfg


def default_argument_parser(description: str) -> argparse.ArgumentParser:
    """Upstream's command line: --cfg, --shard_id, --num_shards, --init_method, then KEY VALUE pairs."""
    parser = argparse.ArgumentParser(description=description, formatter_class=cli_args.HelpFormatter)
    parser.add_argument("--cfg", dest="cfg_file", required=True,
                        help="YAML config file, or the name of a packaged one (slowfast-custom configs)")
    parser.add_argument("--shard_id", type=cli_args.non_negative_int, default=0,
                        help="index of this machine (upstream convention)")
    parser.add_argument("--num_shards", type=cli_args.positive_int, default=1,
                        help="number of machines (upstream convention)")
    parser.add_argument("--init_method", default="tcp://localhost:9999",
                        help="process-group rendezvous when run_net.py spawns NUM_GPUS processes itself")
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=None, help="KEY VALUE overrides, e.g. NUM_GPUS 0")
    return parser


def load_config(args: argparse.Namespace) -> CfgNode:
    """Defaults + plugin keys + YAML + overrides, with derived values filled in; frozen."""
    cfg = get_cfg()
    where: Where = {}
    cfg_file = getattr(args, "cfg_file", None)
    if cfg_file:
        path = find_config(cfg_file)
        try:
            merge_yaml_file(cfg, path, where)
        except (KeyError, ValueError, AssertionError) as err:
            raise UserError(f"{path}: {_key_error_text(err)}") from None
    opts: Optional[Sequence[str]] = getattr(args, "opts", None)
    if opts:
        try:
            merge_overrides(cfg, opts, where)
        except (KeyError, ValueError, AssertionError) as err:
            raise UserError(f"{OVERRIDES}: {_key_error_text(err)}") from None
    if hasattr(args, "num_shards") and hasattr(args, "shard_id"):
        cfg.NUM_SHARDS = args.num_shards
        cfg.SHARD_ID = args.shard_id
    finalize_config(cfg, where)
    cfg.freeze()
    return cfg


def _key_error_text(err: Exception) -> str:
    text = (str(err.args[0]) if err.args else str(err)).strip("'\"")
    if isinstance(err, KeyError):
        text += " (slowfast_custom/config.py and upstream's slowfast/config/defaults.py list the known keys)"
    return text


def finalize_config(cfg: CfgNode, where: Optional[Where] = None) -> None:
    """Check every value (``config_checks.check_values``; ``where``: the file and line of each key), fill the
    derived paths and check the values that upstream would only trip over later."""
    check_values(cfg, where)
    root = cfg.DATA.PATH_TO_DATA_DIR
    for key, sub in (("FRAME_DIR", "frames"), ("ANNOTATION_DIR", "annotations"), ("FRAME_LIST_DIR", "frame_lists")):
        if not cfg.AVA[key] and root:
            cfg.AVA[key] = str(Path(root) / sub)
    if cfg.NUM_GPUS < 0:
        raise UserError(f"NUM_GPUS must be >= 0, got {cfg.NUM_GPUS}")
    if cfg.NUM_GPUS > 0:
        import torch  # only a GPU config needs it: CPU configs load without torch

        if cfg.NUM_GPUS > torch.cuda.device_count():
            raise UserError(
                f"NUM_GPUS {cfg.NUM_GPUS} but {torch.cuda.device_count()} CUDA devices are visible. "
                "Set NUM_GPUS 0 to run on the CPU"
            )
    for split in ("TRAIN", "TEST"):
        if cfg[split].BATCH_SIZE % max(1, cfg.NUM_GPUS):
            raise UserError(f"{split}.BATCH_SIZE {cfg[split].BATCH_SIZE} must be a multiple of NUM_GPUS {cfg.NUM_GPUS}")
    archs = _MODEL_NAME_TO_ARCHS.get(cfg.MODEL.MODEL_NAME)
    if archs is None:
        raise UserError(f"MODEL.MODEL_NAME {cfg.MODEL.MODEL_NAME!r} is not one of {sorted(_MODEL_NAME_TO_ARCHS)}")
    if cfg.MODEL.ARCH not in archs:
        raise UserError(f"MODEL.MODEL_NAME {cfg.MODEL.MODEL_NAME} does not build MODEL.ARCH {cfg.MODEL.ARCH!r} "
                        f"(it builds {', '.join(archs)})")
    if cfg.DETECTION.ENABLE and cfg.MODEL.HEAD_ACT != "sigmoid":
        raise UserError(f"MODEL.HEAD_ACT {cfg.MODEL.HEAD_ACT!r}: action detection is multi-label and needs sigmoid")
    if cfg.TRAIN.MIXED_PRECISION not in PRECISIONS:
        raise UserError(f"TRAIN.MIXED_PRECISION {cfg.TRAIN.MIXED_PRECISION!r} is not one of {', '.join(PRECISIONS)}")
    if cfg.TRAIN.MEMORY_FORMAT not in MEMORY_FORMATS:
        raise UserError(f"TRAIN.MEMORY_FORMAT {cfg.TRAIN.MEMORY_FORMAT!r} is not one of {', '.join(MEMORY_FORMATS)}")
    if cfg.TEST.CHECKPOINT_CHOICE not in ("best", "last"):
        raise UserError(f"TEST.CHECKPOINT_CHOICE {cfg.TEST.CHECKPOINT_CHOICE!r} is not one of best, last")
    if cfg.DATA_LOADER.MAX_DECODE_REDUCTION not in (1, 2, 4, 8):
        raise UserError("DATA_LOADER.MAX_DECODE_REDUCTION must be 1, 2, 4 or 8, "
                        f"got {cfg.DATA_LOADER.MAX_DECODE_REDUCTION}")
    if cfg.DATA_LOADER.GPU_DECODE and cfg.NUM_GPUS == 0:
        raise UserError("DATA_LOADER.GPU_DECODE needs a GPU (NUM_GPUS > 0)")
    valid = cfg.AVA.VALID_SECONDS
    if valid and (len(valid) != 2 or valid[0] > valid[1]):
        raise UserError(f"AVA.VALID_SECONDS must be [first, last], got {list(cfg.AVA.VALID_SECONDS)}")


def config_files(config_dir: Path) -> List[Path]:
    return sorted(p for p in config_dir.rglob("*.yaml"))
