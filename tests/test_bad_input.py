"""Bad input across the tools: one line naming the file (and line) and what to do, exit 2, nothing written.

Each case builds a small dataset (or other input) in a temporary folder, breaks
one thing, runs a tool's ``main`` in this process the way its ``__main__``
does (``run_cli``; argparse's own exit for a bad option), and checks

* the exit code and a fragment of the one error line;
* no traceback, and exactly one ``error:`` line;
* the input folder afterwards is byte for byte what it was (nothing written
  there, nothing changed or removed); an output folder outside it must not
  exist unless the case says the tool may have started it.

``check_dataset.py`` reports data problems as a list and exits 1; its own
failures (a file it cannot decode, an option) exit 2 like every other tool.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from slowfast_custom.errors import run_cli

from conftest import REPO, TINY_CFG, TINY_OVERRIDES

TRAIN_VIDEO = "synth_train_000"
NOT_UTF8 = "caf\xe9".encode("latin-1")  # "café" as Windows-1252 / Latin-1 writes it


# ---------------------------------------------------------------------------
# Running a tool and looking at what it left
# ---------------------------------------------------------------------------

_TOOLS: Dict[str, object] = {}


def tool(name: str):
    if name not in _TOOLS:
        spec = importlib.util.spec_from_file_location(f"bad_input_tool_{name}", REPO / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[name] = module
    return _TOOLS[name]


def run(name: str, argv: List[str]) -> int:
    """Exit code of ``tools/<name>.py argv`` as its ``__main__`` computes it."""
    try:
        return run_cli(tool(name).main, [str(a) for a in argv])
    except SystemExit as err:  # argparse: usage line, one error line, exit 2
        return int(err.code)


def snapshot(root: Path) -> Dict[str, Tuple[int, str]]:
    """Every file under ``root`` (hidden ones too) with its size and digest; the keyframe index cache a valid
    frame list gets beside it (``frame_lists/index_cache/``, derived and rebuilt when an input changes) aside."""
    return {str(p.relative_to(root)): (p.stat().st_size, hashlib.sha1(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file() and p.parent.name != "index_cache"}


@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    build: Callable[[Path], List]  # makes the inputs under tmp/"in" (and may name tmp/"out"); returns argv
    message: str  # fragment of the error line
    code: int = 2
    # a frame that fails to decode mid-training: OUTPUT_DIR (its log, checkpoints) exists by then
    output_may_exist: bool = False


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

_DATASET: List[Path] = []


@pytest.fixture(autouse=True)
def _dataset(tiny_dataset):
    _DATASET[:] = [tiny_dataset]


def dataset(tmp: Path) -> Path:
    """A copy of the tiny synthetic dataset (2 train, 2 val videos of 4 s at 30 fps) in tmp/in/data."""
    data = tmp / "in" / "data"
    shutil.copytree(_DATASET[0], data)
    return data


def frame(data: Path, number: int, video: str = TRAIN_VIDEO) -> Path:
    return data / "frames" / video / f"{video}_{number:06d}.jpg"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def truncate_all_frames(data: Path, video: str = TRAIN_VIDEO) -> None:
    for path in (data / "frames" / video).glob("*.jpg"):
        truncate(path)


def edit_line(path: Path, number: int, new: bytes) -> None:
    """Replace line ``number`` (from 1) of ``path`` with ``new``."""
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = new + b"\n"
    path.write_bytes(b"".join(lines))


def tiny_frame(path: Path, width: int = 1, height: int = 1) -> None:
    """Overwrite frame ``path`` with a whole JPEG of ``width`` x ``height`` px."""
    from PIL import Image

    Image.new("RGB", (width, height), (128, 128, 128)).save(path, quality=90)


def tiny_video(data: Path, video: str = TRAIN_VIDEO) -> Path:
    """Every frame of ``video`` 1x1 px (a broken extraction)."""
    for path in (data / "frames" / video).glob("*.jpg"):
        tiny_frame(path)
    return data


def space_in_video_id(data: Path, video: str = TRAIN_VIDEO) -> Path:
    """Rename ``video`` in the train frame list to an id with spaces."""
    path = data / "frame_lists" / "train.csv"
    path.write_text(path.read_text().replace(video, video.replace("_", " ")))
    return data


def check_args(data: Path, *overrides) -> List:
    return [data, "--cfg", TINY_CFG, *overrides]


def train_args(tmp: Path, data: Path, *overrides) -> List:
    return ["--cfg", TINY_CFG, *TINY_OVERRIDES, "DATA.PATH_TO_DATA_DIR", data, "OUTPUT_DIR", tmp / "out",
            "TRAIN.EVAL_PERIOD", "0", *overrides]


def video_file(tmp: Path, name: str = "clip.avi", seconds: float = 2.0) -> Path:
    from slowfast_custom.video.frames import render_test_pattern

    return render_test_pattern(tmp / "in" / name, seconds)


def truncated_video(tmp: Path) -> Path:
    """An AVI cut in half: its header still states all 100 frames."""
    path = video_file(tmp, "cut.avi", 4.0)
    truncate(path)
    return path


def frames_only(tmp: Path) -> Path:
    """A dataset folder with only frames/ (what extract_frames leaves) and an action list."""
    data = dataset(tmp)
    for sub in ("annotations", "frame_lists"):
        shutil.rmtree(data / sub)
    (tmp / "in" / "actions.txt").write_text("walk\nsit\n")
    return data


def tracks_file(tmp: Path, data: Path, rows: str = "") -> Path:
    path = tmp / "in" / "tracks.csv"
    path.write_text("video_id,second,x1,y1,x2,y2,person_id,score\n" + rows)
    return path


def via_project(tmp: Path, data: Path, regions: str = "", text: str = "") -> Path:
    """A VIA 2 project with one keyframe image of the first train video (160 x 120 frames) and ``regions``."""
    path = tmp / "in" / "labelled.json"
    image = f"{TRAIN_VIDEO}__000001.jpg"
    path.write_text(text or ('{"_via_img_metadata": {"%s10": {"filename": "%s", "size": 10, "regions": [%s], '
                             '"file_attributes": {}}}}' % (image, image, regions)))
    return path


def region(x, y, w, h, action="walk") -> str:
    return ('{"shape_attributes": {"name": "rect", "x": %s, "y": %s, "width": %s, "height": %s}, '
            '"region_attributes": {"person_id": "1", "action": {"%s": true}}}' % (x, y, w, h, action))


def import_args(tmp: Path, data: Path, via: Path, *more) -> List:
    return [via, "--data", data, "--actions", tmp / "in" / "actions.txt", *more]


def detect_args(data: Path, *more) -> List:
    return ["--data", data, "--embedder", "histogram", "--threads", "1", *more]


def yaml_file(tmp: Path, text) -> Path:
    path = tmp / "in" / "bad.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def case_pbtxt(tmp: Path, text: str) -> Path:
    data = dataset(tmp)
    (data / "annotations" / "ava_action_list_v2.2_for_activitynet_2019.pbtxt").write_text(text)
    return data


def label_val_video_for_training(data: Path, video: str = "synth_val_000") -> None:
    """List a val video in the train frame list too and give it a train box (a copy-paste slip)."""
    rows = [line for line in (data / "frame_lists" / "val.csv").read_text().splitlines()[1:] if line.startswith(video)]
    with open(data / "frame_lists" / "train.csv", "a") as f:
        f.write("".join(line.replace(f"{video} 0 ", f"{video} 9 ", 1) + "\n" for line in rows))
    with open(data / "annotations" / "ava_train_v2.2.csv", "a") as f:
        f.write(f"{video},0001,0.1,0.1,0.5,0.5,1,7\n")


def make_dir_in_the_way(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "keep").write_text("a folder where the tool writes a file\n")


def base_yaml(tmp: Path, body: str) -> Path:
    """A config that inherits the tiny one and sets ``body`` (its keys from line 2)."""
    return yaml_file(tmp, f"_BASE_: {TINY_CFG}\n{body}")


def yaml_train(tmp: Path, body: str) -> List:
    return ["--cfg", base_yaml(tmp, body), *TINY_OVERRIDES[:-2], "OUTPUT_DIR", tmp / "out"]


def yaml_pair(tmp: Path) -> Path:
    """Two files naming each other as _BASE_."""
    (tmp / "in").mkdir(parents=True, exist_ok=True)
    (tmp / "in" / "other.yaml").write_text("_BASE_: bad.yaml\n")
    return yaml_file(tmp, "_BASE_: other.yaml\nTRAIN:\n  BATCH_SIZE: 2\n")


def file_in(tmp: Path, name: str, text: str = "x") -> Path:
    path = tmp / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def duplicate_names_pbtxt() -> str:
    return 'item {\n  name: "walk"\n  id: 1\n}\nitem {\n  name: "sit"\n  id: 2\n}\nitem {\n  name: "walk"\n  id: 3\n}\n'


def export_model_args(tmp: Path, *more) -> List:
    return ["--cfg", TINY_CFG, "--checkpoint", file_in(tmp, "model.pyth"), "--format", "onnx", *more]


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


CASES = [
    # --- issue 12, case 1: frames that are not whole images -------------------------------------------------
    Case("check: truncated JPEG frame", "check_dataset",
         lambda t: (lambda d: (truncate(frame(d, 31)), check_args(d))[1])(dataset(t)),
         f"{TRAIN_VIDEO}_000031.jpg: truncated JPEG (no end-of-image marker)", 1),
    Case("check: text file named .jpg", "check_dataset",
         lambda t: (lambda d: (frame(d, 31).write_text("not an image\n"), check_args(d))[1])(dataset(t)),
         f"{TRAIN_VIDEO}_000031.jpg: not a JPEG or PNG image", 1),
    Case("check: empty frame file", "check_dataset",
         lambda t: (lambda d: (frame(d, 31).write_bytes(b""), check_args(d))[1])(dataset(t)),
         f"{TRAIN_VIDEO}_000031.jpg: empty file", 1),
    Case("train: truncated frames", "run_net",
         lambda t: (lambda d: (truncate_all_frames(d), truncate_all_frames(d, "synth_train_001"),
                               train_args(t, d))[-1])(dataset(t)),
         "(truncated JPEG (no end-of-image marker)). Re-extract the frames of synth_train_00", output_may_exist=True),
    # Errors inside DataLoader workers reach the user as the same one line.
    Case("train: text frames, in a loader worker", "run_net",
         lambda t: (lambda d: ([p.write_text("x") for v in ("synth_train_000", "synth_train_001")
                                for p in (d / "frames" / v).glob("*.jpg")],
                               train_args(t, d, "DATA_LOADER.NUM_WORKERS", "1"))[-1])(dataset(t)),
         "(not a JPEG or PNG image). Re-extract the frames of synth_train_00", output_may_exist=True),
    # --- case 2: frame-list paths that leave the frames folder ----------------------------------------------
    Case("check: ../ frame path", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "frame_lists" / "train.csv", 2,
                                         f'{TRAIN_VIDEO} 0 0 ../../../../etc/passwd ""'.encode()),
                               check_args(d))[1])(dataset(t)),
         "train.csv:2: error: frame path '../../../../etc/passwd' leads out of the frames folder", 1),
    Case("check: absolute frame path", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "frame_lists" / "train.csv", 3,
                                         f'{TRAIN_VIDEO} 0 1 /etc/passwd ""'.encode()),
                               check_args(d))[1])(dataset(t)),
         "train.csv:3: error: frame path '/etc/passwd' is absolute", 1),
    Case("train: ../ frame path", "run_net",
         lambda t: (lambda d: (edit_line(d / "frame_lists" / "train.csv", 2,
                                         f'{TRAIN_VIDEO} 0 0 {TRAIN_VIDEO}/../../x.jpg ""'.encode()),
                               train_args(t, d))[1])(dataset(t)),
         "train.csv:2: frame path 'synth_train_000/../../x.jpg' leads out of the frames folder"),
    # --- case 3: one video in two splits ---------------------------------------------------------------------
    Case("check: video labelled in train and val", "check_dataset",
         lambda t: (lambda d: (label_val_video_for_training(d), check_args(d))[1])(dataset(t)),
         "video synth_val_000 is labelled in the train split at seconds 1 and in the val split at seconds", 1),
    Case("train: video labelled in train and val", "run_net",
         lambda t: (lambda d: (label_val_video_for_training(d), train_args(t, d, "TRAIN.EVAL_PERIOD", "1"))[1])(
             dataset(t)),
         "video synth_val_000 is labelled in the train split at seconds 1 and in the val split at seconds"),
    # --- case 6 and the other numeric options: range-checked where they are parsed -----------------------------
    Case("train: TRAIN.BATCH_SIZE 0", "run_net", lambda t: train_args(t, dataset(t), "TRAIN.BATCH_SIZE", "0"),
         "TRAIN.BATCH_SIZE must be >= 1, got 0"),
    Case("train: TRAIN.BATCH_SIZE -2", "run_net", lambda t: train_args(t, dataset(t), "TRAIN.BATCH_SIZE", "-2"),
         "TRAIN.BATCH_SIZE must be >= 1, got -2"),
    Case("train: SOLVER.BASE_LR 0", "run_net", lambda t: train_args(t, dataset(t), "SOLVER.BASE_LR", "0.0"),
         "SOLVER.BASE_LR must be > 0, got 0.0"),
    Case("train: DATA_LOADER.NUM_WORKERS -1", "run_net",
         lambda t: train_args(t, dataset(t), "DATA_LOADER.NUM_WORKERS", "-1"), "DATA_LOADER.NUM_WORKERS must be >= 0"),
    Case("train: AVA.DETECTION_SCORE_THRESH 1.5", "run_net",
         lambda t: train_args(t, dataset(t), "AVA.DETECTION_SCORE_THRESH", "1.5"),
         "AVA.DETECTION_SCORE_THRESH must be >= 0 and <= 1, got 1.5"),
    Case("train: MODEL.NUM_CLASSES 0", "run_net", lambda t: train_args(t, dataset(t), "MODEL.NUM_CLASSES", "0"),
         "MODEL.NUM_CLASSES must be >= 1, got 0"),
    Case("check: DATA.NUM_FRAMES 0", "check_dataset", lambda t: check_args(dataset(t), "DATA.NUM_FRAMES", "0"),
         "DATA.NUM_FRAMES must be >= 1, got 0"),
    Case("extract: --fps 0", "extract_frames", lambda t: [video_file(t), "--out", t / "out", "--fps", "0"],
         "argument --fps: 0 is not a number > 0"),
    Case("extract: --quality 40", "extract_frames", lambda t: [video_file(t), "--out", t / "out", "--quality", "40"],
         "argument --quality: 40 is not an integer >= 1 and <= 31"),
    Case("extract: --workers 0", "extract_frames", lambda t: [video_file(t), "--out", t / "out", "--workers", "0"],
         "argument --workers: 0 is not an integer >= 1"),
    Case("extract: --start-sec nan", "extract_frames",
         lambda t: [video_file(t), "--out", t / "out", "--start-sec", "nan"], "argument --start-sec: nan is not"),
    Case("detect: --score-thresh 1.5", "detect_and_track", lambda t: detect_args(dataset(t), "--score-thresh", "1.5"),
         "argument --score-thresh: 1.5 is not a number >= 0 and <= 1"),
    Case("detect: --track-fps 0", "detect_and_track", lambda t: detect_args(dataset(t), "--track-fps", "0"),
         "argument --track-fps: 0 is not a number > 0"),
    Case("detect: --max-age abc", "detect_and_track", lambda t: detect_args(dataset(t), "--max-age", "abc"),
         "argument --max-age: 'abc' is not an integer >= 1"),
    Case("export: --margin-sec -1", "export_via",
         lambda t: ["--data", frames_only(t), "--actions", t / "in" / "actions.txt", "--no-tracks", "--margin-sec=-1"],
         "argument --margin-sec: -1 is not an integer >= 0"),
    Case("import: --val-ratio 1.5", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d), "--val-ratio", "1.5"))(frames_only(t)),
         "argument --val-ratio: 1.5 is not a number >= 0 and <= 1"),
    Case("make_subset: --workers 0", "make_subset", lambda t: ["--out", t / "out", "--workers", "0"],
         "argument --workers: 0 is not an integer >= 1"),
    Case("make_synthetic: --seconds 0", "make_synthetic", lambda t: ["--out", t / "out", "--seconds", "0"],
         "argument --seconds: 0 is not an integer >= 1"),
    Case("frames_to_video: --fps -5", "frames_to_video",
         lambda t: [dataset(t) / "frames" / TRAIN_VIDEO, t / "out" / "v.mp4", "--fps=-5"],
         "argument --fps: -5 is not a number > 0"),
    Case("annotate: --port 70000", "annotate", lambda t: [frames_only(t), "--port", "70000"],
         "argument --port: 70000 is not an integer >= 0 and <= 65535"),
    # --- case 7: a truncated video ----------------------------------------------------------------------------
    Case("extract: truncated video", "extract_frames", lambda t: [truncated_video(t), "--out", t / "out"],
         "cut.avi: video cut is truncated: its header states 100 frames (4.0 s), the file holds about 50 (2.0 s). "
         "Re-download or re-encode the video, or extract only what is there with --end-sec 2"),
    Case("extract: not a video", "extract_frames",
         lambda t: [(lambda p: (p.parent.mkdir(parents=True), p.write_text("hello"), p)[-1])(t / "in" / "v.mp4"),
                    "--out", t / "out"], "v.mp4: cannot read video"),
    Case("extract: video not found", "extract_frames", lambda t: [t / "in" / "nope.mp4", "--out", t / "out"],
         "nope.mp4: video or folder not found"),
    # --- case 8: a VIA box far outside the image --------------------------------------------------------------
    Case("import: box 6x wider than the image", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d, region(-400, 10, 960, 50))))(frames_only(t)),
         "image synth_train_000__000001.jpg, region 1: the rectangle (-400, 10, 960 x 50 px) reaches beyond the "
         "160x120 image"),
    Case("import: box below the image", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d, region(10, 100, 50, 60))))(frames_only(t)),
         "region 1: the rectangle (10, 100, 50 x 60 px) reaches beyond the 160x120 image by more than 1%"),
    # --- case 9: an empty frames/<video>/ ---------------------------------------------------------------------
    Case("detect: empty video folder", "detect_and_track",
         lambda t: (lambda d: ((d / "frames" / "late_video").mkdir(), detect_args(d))[1])(frames_only(t)),
         "frames/late_video: no frames in the folder of video late_video. Extract its frames"),
    # --- case 10: a truncated keyframe ------------------------------------------------------------------------
    Case("detect: truncated frame", "detect_and_track",
         lambda t: (lambda d: (truncate(frame(d, 1)), detect_args(d, "--videos", TRAIN_VIDEO))[1])(frames_only(t)),
         f"{TRAIN_VIDEO}_000001.jpg: cannot read frame of video {TRAIN_VIDEO} (truncated JPEG"),
    Case("export: truncated first frame", "export_via",
         lambda t: (lambda d: (truncate(frame(d, 1)),
                               ["--data", d, "--actions", t / "in" / "actions.txt", "--no-tracks"])[1])(frames_only(t)),
         f"{TRAIN_VIDEO}_000001.jpg: cannot read frame of video {TRAIN_VIDEO} (truncated JPEG"),
    # --- ids with path separators or spaces -------------------------------------------------------------------
    Case("extract: --id with a slash", "extract_frames",
         lambda t: [video_file(t), "--out", t / "out", "--id", "../evil"], "argument --id: video id '../evil' is"),
    Case("extract: --id with a space", "extract_frames",
         lambda t: [video_file(t), "--out", t / "out", "--id", "my clip"], "argument --id: video id 'my clip' is"),
    Case("extract: video file name with a space", "extract_frames",
         lambda t: [video_file(t, "my clip.avi"), "--out", t / "out"],
         "my clip.avi: video id 'my clip' is empty, starts with a dot or has a space"),
    Case("detect: --videos with a backslash", "detect_and_track",
         lambda t: detect_args(frames_only(t), "--videos", "a\\b"), "argument --videos: video id 'a\\\\b' is"),
    Case("export: --videos hidden folder", "export_via",
         lambda t: ["--data", frames_only(t), "--actions", t / "in" / "actions.txt", "--no-tracks", "--videos",
                    ".x.123.tmp"], "argument --videos: video id '.x.123.tmp' is empty, starts with a dot"),
    Case("import: --val-videos with a slash", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d), "--val-videos", "a/b"))(frames_only(t)),
         "argument --val-videos: video id 'a/b' is"),
    # --- text that is not UTF-8: the file and line are named --------------------------------------------------
    Case("check: box CSV not UTF-8", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "annotations" / "ava_train_v2.2.csv", 3, NOT_UTF8 + b",1,0,0,1,1,1,1"),
                               check_args(d))[1])(dataset(t)),
         "ava_train_v2.2.csv:3: not UTF-8 text (byte 0xe9). Save it as UTF-8"),
    Case("check: frame list not UTF-8", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "frame_lists" / "val.csv", 4, NOT_UTF8), check_args(d))[1])(dataset(t)),
         "val.csv:4: not UTF-8 text (byte 0xe9)"),
    Case("check: label map not UTF-8", "check_dataset",
         lambda t: (lambda d: ((d / "annotations" / "ava_action_list_v2.2_for_activitynet_2019.pbtxt").write_bytes(
             b'item {\n  name: "' + NOT_UTF8 + b'"\n  id: 1\n}\n'), check_args(d))[1])(dataset(t)),
         "ava_action_list_v2.2_for_activitynet_2019.pbtxt:2: error: not UTF-8 text", 1),
    Case("train: box CSV not UTF-8", "run_net",
         lambda t: (lambda d: (edit_line(d / "annotations" / "ava_train_v2.2.csv", 2, NOT_UTF8), train_args(t, d))[1])(
             dataset(t)), "ava_train_v2.2.csv:2: not UTF-8 text"),
    Case("export: action list not UTF-8", "export_via",
         lambda t: (lambda d: ((t / "in" / "actions.txt").write_bytes(b"walk\n" + NOT_UTF8 + b"\n"),
                               ["--data", d, "--actions", t / "in" / "actions.txt", "--no-tracks"])[1])(frames_only(t)),
         "actions.txt:2: not UTF-8 text"),
    Case("export: tracks file not UTF-8", "export_via",
         lambda t: (lambda d: ["--data", d, "--actions", t / "in" / "actions.txt", "--tracks",
                               (lambda p: (p.write_bytes(p.read_bytes() + NOT_UTF8 + b"\n"), p)[1])(
                                   tracks_file(t, d, f"{TRAIN_VIDEO},0001,0.1,0.1,0.5,0.5,1,0.9\n"))])(frames_only(t)),
         "tracks.csv:3: not UTF-8 text"),
    Case("import: VIA file not UTF-8", "import_via",
         lambda t: (lambda d: import_args(t, d, (lambda p: (p.write_bytes(b'{\n"a": "' + NOT_UTF8 + b'"}'), p)[1])(
             via_project(t, d))))(frames_only(t)), "labelled.json:2: not UTF-8 text"),
    Case("import: --val-boxes not UTF-8", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d), "--val-boxes",
                                          (lambda p: (p.write_bytes(NOT_UTF8), p)[1])(t / "in" / "boxes.csv")))(
             frames_only(t)), "boxes.csv:1: not UTF-8 text"),
    Case("make_subset: id file not UTF-8", "make_subset",
         lambda t: (lambda p: (p.parent.mkdir(parents=True), p.write_bytes(b"-5KQ66BBWC4\n" + NOT_UTF8 + b"\n"),
                               ["--out", t / "out", "--train-ids-file", p])[-1])(t / "in" / "ids.txt"),
         "ids.txt:2: not UTF-8 text"),
    Case("train: YAML not UTF-8", "run_net",
         lambda t: ["--cfg", yaml_file(t, b"_BASE_: x.yaml\nOUTPUT_DIR: " + NOT_UTF8 + b"\n")],
         "bad.yaml:2: not UTF-8 text"),
    # --- syntax errors in YAML and pbtxt files name the file and line ----------------------------------------
    Case("train: YAML syntax error", "run_net",
         lambda t: ["--cfg", yaml_file(t, f"_BASE_: {TINY_CFG}\nTRAIN:\n  BATCH_SIZE: [1\n")],
         "bad.yaml:4: YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence "
         "on line 3)"),
    Case("check: YAML indentation error", "check_dataset",
         lambda t: check_args(dataset(t))[:1] + ["--cfg", yaml_file(t, "TRAIN:\n  BATCH_SIZE: 2\n ENABLE: True\n")],
         "bad.yaml:3: YAML syntax error"),
    Case("train: YAML _BASE_ missing", "run_net",
         lambda t: ["--cfg", yaml_file(t, "_BASE_: no-such-base.yaml\n")],
         "no-such-base.yaml: No such file or directory"),
    Case("check: pbtxt unterminated string", "check_dataset",
         lambda t: check_args(case_pbtxt(t, 'item {\n  name: "walk\n  id: 1\n}\n')),
         "pbtxt:2: error: bad string \"walk (Unterminated string", 1),
    Case("check: pbtxt bad escape", "check_dataset",
         lambda t: check_args(case_pbtxt(t, 'item {\n  name: "a\\q"\n  id: 1\n}\n')),
         "pbtxt:2: error: bad string \"a\\q\" (Invalid \\escape)", 1),
    Case("check: pbtxt missing colon", "check_dataset",
         lambda t: check_args(case_pbtxt(t, 'item {\n  name "walk"\n  id: 1\n}\n')),
         "pbtxt:2: error: cannot parse 'name \"walk\"'", 1),
    Case("export: pbtxt action list unclosed", "export_via",
         lambda t: (lambda d: ((t / "in" / "a.pbtxt").write_text('item {\n  name: "walk"\n  id: 1\n'),
                               ["--data", d, "--actions", t / "in" / "a.pbtxt", "--no-tracks"])[1])(frames_only(t)),
         "a.pbtxt:1: unterminated block (missing '}')"),
    Case("import: VIA JSON syntax error", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d, text='{\n "x": [1,\n}\n')))(frames_only(t)),
         "labelled.json:3: not valid JSON"),
    # --- OS errors: one line naming the path and the reason ----------------------------------------------------
    Case("check --fix: a folder where the repaired file goes", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "frame_lists" / "train.csv", 2, f"{TRAIN_VIDEO},0,0,x.jpg,".encode()),
                               make_dir_in_the_way(d / "frame_lists" / "train.fixed.csv"),
                               check_args(d) + ["--fix"])[-1])(dataset(t)),
         "train.fixed.csv: Is a directory (expected a file, found a folder)"),
    Case("train: OUTPUT_DIR under a regular file", "run_net",
         lambda t: (lambda d: ((t / "in" / "file").write_text("x"),
                               train_args(t, d, "OUTPUT_DIR", t / "in" / "file" / "run"))[1])(dataset(t)),
         "file/run: Not a directory (a part of the path is a file, not a folder)"),
    Case("extract: --out under a regular file", "extract_frames",
         lambda t: (lambda v: ((t / "in" / "file").write_text("x"), [v, "--out", t / "in" / "file" / "ds"])[1])(
             video_file(t)), "in/file is a file, not a folder"),
    Case("detect: --out under a regular file", "detect_and_track",
         lambda t: (lambda d: ((t / "in" / "file").write_text("x"),
                               detect_args(d, "--videos", TRAIN_VIDEO, "--out", t / "in" / "file" / "det"))[1])(
             frames_only(t)), "in/file is a file, not a folder"),
    Case("make_synthetic: --out under a regular file", "make_synthetic",
         lambda t: (lambda p: (p.parent.mkdir(parents=True), p.write_text("x"),
                               ["--out", p / "ds", "--train-videos", "1", "--val-videos", "1", "--seconds", "1"])[-1])(
             t / "in" / "file"), "in/file is a file, not a folder"),
    # --- a few more inputs the tools must refuse before writing ------------------------------------------------
    Case("export: tracks name a video without frames", "export_via",
         lambda t: (lambda d: ["--data", d, "--actions", t / "in" / "actions.txt", "--tracks",
                               tracks_file(t, d, "ghost,0001,0.1,0.1,0.5,0.5,1,0.9\n")])(frames_only(t)),
         "the tracks name videos without frames"),
    Case("import: action not in the list", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d, region(10, 10, 50, 60, "dance"))))(frames_only(t)),
         "action 'dance' is not in the action list"),
    Case("detect: --videos not extracted", "detect_and_track",
         lambda t: detect_args(frames_only(t), "--videos", "ghost"), "frames/ghost: no frames folder for video ghost"),

    # --- issue 21: every config value, by one validation layer (file:line where the YAML gave it) -------------
    Case("train: YAML SOLVER.BASE_LR .nan", "run_net", lambda t: yaml_train(t, "SOLVER:\n  BASE_LR: .nan\n"),
         "bad.yaml:3: SOLVER.BASE_LR must be a finite number > 0, got nan"),
    Case("train: YAML AVA.DETECTION_SCORE_THRESH .nan", "run_net",
         lambda t: yaml_train(t, "AVA:\n  DETECTION_SCORE_THRESH: .nan\n"),
         "bad.yaml:3: AVA.DETECTION_SCORE_THRESH must be a finite number >= 0 and <= 1, got nan"),
    Case("train: YAML SOLVER.MOMENTUM .inf", "run_net", lambda t: yaml_train(t, "SOLVER:\n  MOMENTUM: .inf\n"),
         "bad.yaml:3: SOLVER.MOMENTUM must be a finite number"),
    Case("train: YAML a NaN inside a list", "run_net",
         lambda t: yaml_train(t, "DATA:\n  TRAIN_JITTER_SCALES: [128, .nan]\n"),
         "bad.yaml:3: DATA.TRAIN_JITTER_SCALES must be a finite number"),
    Case("train: YAML upstream key BN.EPSILON -.inf", "run_net", lambda t: yaml_train(t, "BN:\n  EPSILON: -.inf\n"),
         "bad.yaml:3: BN.EPSILON must be a finite number"),
    Case("train: override SOLVER.WEIGHT_DECAY 1e999", "run_net",
         lambda t: train_args(t, dataset(t), "SOLVER.WEIGHT_DECAY", "1e999"),
         "command-line overrides: SOLVER.WEIGHT_DECAY must be a finite number >= 0, got inf"),
    Case("train: YAML empty", "run_net", lambda t: ["--cfg", yaml_file(t, "")], "bad.yaml: the config is empty"),
    Case("train: YAML only a comment", "run_net", lambda t: ["--cfg", yaml_file(t, "# nothing\n")],
         "bad.yaml: the config is empty"),
    Case("train: YAML a scalar", "run_net", lambda t: ["--cfg", yaml_file(t, "42\n")],
         "bad.yaml: the config is a single value (42), not a mapping of keys"),
    Case("train: YAML a list", "run_net", lambda t: ["--cfg", yaml_file(t, "- TRAIN\n- TEST\n")],
         "bad.yaml: the config is a list, not a mapping of keys"),
    Case("train: YAML _BASE_ files naming each other", "run_net", lambda t: ["--cfg", yaml_pair(t)],
         "_BASE_ chain loops"),
    Case("train: YAML _BASE_ naming itself", "run_net", lambda t: ["--cfg", yaml_file(t, "_BASE_: bad.yaml\n")],
         "_BASE_ chain loops"),
    Case("train: YAML _BASE_ of a _BASE_ missing", "run_net",
         lambda t: (file_in(t, "mid.yaml", "_BASE_: gone.yaml\n"), ["--cfg", yaml_file(t, "_BASE_: mid.yaml\n")])[1],
         "mid.yaml:1: _BASE_ "),
    Case("train: YAML _BASE_ not a name", "run_net", lambda t: ["--cfg", yaml_file(t, "_BASE_: 5\n")],
         "bad.yaml:1: _BASE_ 5 is not a file name"),
    Case("train: YAML number key null", "run_net", lambda t: yaml_train(t, "SOLVER:\n  BASE_LR: null\n"),
         "bad.yaml:3: SOLVER.BASE_LR is empty (null)"),
    Case("train: YAML section given a value", "run_net", lambda t: yaml_train(t, "TRAIN: 5\n"),
         "bad.yaml:2: TRAIN must be a mapping of keys"),
    Case("train: YAML list of words for numbers", "run_net", lambda t: yaml_train(t, "DATA:\n  MEAN: [a, b, c]\n"),
         "bad.yaml:3: DATA.MEAN must be a list of numbers, got element 'a'"),
    Case("train: YAML path key a number", "run_net", lambda t: yaml_train(t, "OUTPUT_DIR: 5\n"),
         "bad.yaml:2: OUTPUT_DIR must be a string, got 5"),
    Case("train: YAML unknown key", "run_net", lambda t: yaml_train(t, "TRAIN:\n  BATCH: 2\n"),
         "bad.yaml:3: Non-existent key: TRAIN.BATCH"),
    Case("train: YAML text for a number", "run_net", lambda t: yaml_train(t, "TRAIN:\n  BATCH_SIZE: two\n"),
         "bad.yaml:3: TRAIN.BATCH_SIZE must be a whole number, got 'two'"),
    Case("train: YAML key in a _BASE_ named there", "run_net",
         lambda t: (file_in(t, "mid.yaml", f"_BASE_: {TINY_CFG}\nSOLVER:\n  GAMMA: .nan\n"),
                    ["--cfg", yaml_file(t, "_BASE_: mid.yaml\n")])[1], "mid.yaml:3: SOLVER.GAMMA must be a finite"),
    Case("train: MODEL.DROPOUT_RATE 1.5", "run_net", lambda t: train_args(t, dataset(t), "MODEL.DROPOUT_RATE", "1.5"),
         "MODEL.DROPOUT_RATE must be >= 0 and <= 1, got 1.5"),
    Case("train: SOLVER.MOMENTUM -0.1", "run_net", lambda t: train_args(t, dataset(t), "SOLVER.MOMENTUM", "-0.1"),
         "SOLVER.MOMENTUM must be >= 0 and <= 1, got -0.1"),
    Case("train: DEMO.OUTPUT_FPS 0", "run_net", lambda t: train_args(t, dataset(t), "DEMO.OUTPUT_FPS", "0"),
         "DEMO.OUTPUT_FPS must be -1 (the input's) or > 0, got 0"),
    Case("train: TEST.BATCH_SIZE 0", "run_net", lambda t: train_args(t, dataset(t), "TEST.BATCH_SIZE", "0"),
         "TEST.BATCH_SIZE must be >= 1, got 0"),
    Case("train: DATA.SAMPLING_RATE 0", "run_net", lambda t: train_args(t, dataset(t), "DATA.SAMPLING_RATE", "0"),
         "DATA.SAMPLING_RATE must be >= 1, got 0"),
    Case("train: AVA.FPS 0", "run_net", lambda t: train_args(t, dataset(t), "AVA.FPS", "0"),
         "AVA.FPS must be > 0, got 0"),
    Case("train: DATA.TARGET_FPS -30", "run_net", lambda t: train_args(t, dataset(t), "DATA.TARGET_FPS", "-30"),
         "DATA.TARGET_FPS must be > 0, got -30"),
    Case("train: SOLVER.MAX_EPOCH 0", "run_net", lambda t: train_args(t, dataset(t), "SOLVER.MAX_EPOCH", "0"),
         "SOLVER.MAX_EPOCH must be >= 1, got 0"),
    Case("train: NUM_GPUS -1", "run_net", lambda t: train_args(t, dataset(t), "NUM_GPUS", "-1"),
         "NUM_GPUS must be >= 0, got -1"),
    Case("train: override without a value", "run_net", lambda t: train_args(t, dataset(t), "SOLVER.BASE_LR"),
         "'SOLVER.BASE_LR' has no value"),
    Case("train: override unknown nested key", "run_net", lambda t: train_args(t, dataset(t), "SOLVERR.LR", "1"),
         "Non-existent key: SOLVERR.LR"),
    Case("train: OUTPUT_DIR with a newline", "run_net", lambda t: train_args(t, dataset(t), "OUTPUT_DIR", "a\nb"),
         "OUTPUT_DIR path 'a\\nb' holds a control character"),
    Case("train: --num_shards 0", "run_net", lambda t: ["--num_shards", "0", *train_args(t, dataset(t))],
         "argument --num_shards: 0 is not an integer >= 1"),
    Case("train: --shard_id -1", "run_net", lambda t: ["--shard_id=-1", *train_args(t, dataset(t))],
         "argument --shard_id: -1 is not an integer >= 0"),
    Case("check: YAML .nan", "check_dataset",
         lambda t: check_args(dataset(t))[:1] + ["--cfg", base_yaml(t, "SOLVER:\n  BASE_LR: .nan\n")],
         "bad.yaml:3: SOLVER.BASE_LR must be a finite number"),
    Case("check: label map naming two classes the same", "check_dataset",
         lambda t: check_args(case_pbtxt(t, duplicate_names_pbtxt())),
         "pbtxt:10: error: class name 'walk' is used twice (ids 1 and 3)", 1),
    Case("prepare_frames: YAML a list", "prepare_frames",
         lambda t: [dataset(t), "--cfg", yaml_file(t, "- a\n"), "--out", t / "out"], "bad.yaml: the config is a list"),
    # --- issue 21: frames of a size the model cannot use (from the image headers, no decode) ---------------------
    Case("check: a video of 1x1 px frames", "check_dataset", lambda t: check_args(tiny_video(dataset(t))),
         "train.csv:2: error: video synth_train_000: a 1x1 px frame is smaller than the 32x32 px the model needs", 1),
    Case("check: one 1x1 keyframe in a 160x120 video", "check_dataset",
         lambda t: (lambda d: (tiny_frame(frame(d, 31)), check_args(d))[1])(dataset(t)),
         f"{TRAIN_VIDEO}_000031.jpg: frame is 1x1 px, the video's first frame {TRAIN_VIDEO}_000001.jpg is "
         "160x120 px (one size per video)", 1),
    Case("check: one 32x24 keyframe in a 160x120 video", "check_dataset",
         lambda t: (lambda d: (tiny_frame(frame(d, 61), 32, 24), check_args(d))[1])(dataset(t)),
         "frame is 32x24 px, the video's first frame", 1),
    Case("train: a video of 1x1 px frames", "run_net", lambda t: train_args(t, tiny_video(dataset(t))),
         f"{TRAIN_VIDEO}_000001.jpg: video {TRAIN_VIDEO}: a 1x1 px frame is smaller than the 32x32 px the model needs. "
         f"Re-extract the frames of {TRAIN_VIDEO}"),
    Case("train: one 1x1 keyframe in a 160x120 video", "run_net",
         lambda t: (lambda d: (tiny_frame(frame(d, 31)), train_args(t, d))[1])(dataset(t)),
         f"{TRAIN_VIDEO}_000031.jpg: frame is 1x1 px, the video's first frame {TRAIN_VIDEO}_000001.jpg is 160x120 px"),
    # --- issue 21: a video id with spaces is named as such (not "expected 5 columns, found 8"), never dropped ---
    Case("check: video id with spaces in the frame list", "check_dataset",
         lambda t: check_args(space_in_video_id(dataset(t))),
         "train.csv:2: error: video id 'synth train 000' has a space, so this row reads as 11 columns", 1),
    Case("check --fix: video id with spaces is not dropped", "check_dataset",
         lambda t: check_args(space_in_video_id(dataset(t))) + ["--fix"],
         "train.csv:2: video id 'synth train 000' has a space, so --fix cannot rebuild this list without dropping "
         "the video. Columns are separated by spaces"),
    # --- issue 21: coordinates are finite numbers wherever they enter ------------------------------------------
    Case("check: predicted box inf", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "annotations" / "ava_val_predicted_boxes.csv", 2,
                                         b"synth_val_000,0001,0.1,0.2,inf,0.8,,0.9"), check_args(d))[1])(dataset(t)),
         "ava_val_predicted_boxes.csv:2: error: x2 'inf' is not finite", 1),
    Case("check: predicted box score nan", "check_dataset",
         lambda t: (lambda d: (edit_line(d / "annotations" / "ava_val_predicted_boxes.csv", 3,
                                         b"synth_val_000,0001,0.1,0.2,0.3,0.8,,nan"), check_args(d))[1])(dataset(t)),
         "ava_val_predicted_boxes.csv:3: error: score 'nan' is not finite", 1),
    Case("export: tracks x1 nan", "export_via",
         lambda t: (lambda d: ["--data", d, "--actions", t / "in" / "actions.txt", "--tracks",
                               tracks_file(t, d, f"{TRAIN_VIDEO},0001,nan,0.1,0.5,0.5,1,0.9\n")])(frames_only(t)),
         "tracks.csv:2: x1 'nan' is not finite"),
    Case("export: tracks score -inf", "export_via",
         lambda t: (lambda d: ["--data", d, "--actions", t / "in" / "actions.txt", "--tracks",
                               tracks_file(t, d, f"{TRAIN_VIDEO},0001,0.1,0.1,0.5,0.5,1,-inf\n")])(frames_only(t)),
         "tracks.csv:2: score '-inf' is not finite"),
    # --- issue 21: every tool option, by one validation layer, before any work ----------------------------------
    Case("annotate: --host not of this machine", "annotate",
         lambda t: [frames_only(t), "--actions", t / "in" / "actions.txt", "--host", "8.8.8.8"],
         "argument --host: 8.8.8.8 is not an address of this machine"),
    Case("annotate: --host that does not resolve", "annotate",
         lambda t: [frames_only(t), "--actions", t / "in" / "actions.txt", "--host", "999.1.1.1"],
         "argument --host: 999.1.1.1: cannot resolve the host name"),
    Case("annotate: --fps 0", "annotate", lambda t: [frames_only(t), "--fps", "0"], "argument --fps: 0 is not"),
    Case("annotate: --actions missing", "annotate",
         lambda t: [frames_only(t), "--actions", t / "in" / "nope.txt"], "argument --actions: "),
    Case("detect: --device not a device", "detect_and_track", lambda t: detect_args(frames_only(t), "--device", "gpu"),
         "argument --device: 'gpu' is not a device"),
    Case("detect: --device cuda:99", "detect_and_track", lambda t: detect_args(frames_only(t), "--device", "cuda:99"),
         "argument --device: cuda:99: "),
    Case("detect: --weights missing", "detect_and_track",
         lambda t: detect_args(frames_only(t), "--weights", t / "in" / "w.pt"), "w.pt: file not found"),
    Case("detect: --data a file", "detect_and_track", lambda t: detect_args(file_in(t, "data.txt")),
         "argument --data: "),
    Case("export: --actions missing", "export_via",
         lambda t: ["--data", frames_only(t), "--actions", t / "in" / "none.txt", "--no-tracks"],
         "none.txt: file not found"),
    Case("export: --tracks a folder", "export_via",
         lambda t: ["--data", frames_only(t), "--actions", t / "in" / "actions.txt", "--tracks", t / "in"],
         "is a folder, not a file"),
    Case("import: VIA file missing", "import_via",
         lambda t: import_args(t, frames_only(t), t / "in" / "gone.json"), "gone.json: file not found"),
    Case("import: --val-ratio nan", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d), "--val-ratio", "nan"))(frames_only(t)),
         "argument --val-ratio: nan is not"),
    Case("import: --fps inf", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d), "--fps", "inf"))(frames_only(t)),
         "argument --fps: inf is not"),
    Case("import: VIA region x NaN", "import_via",
         lambda t: (lambda d: import_args(t, d, via_project(t, d, region("NaN", 10, 50, 60))))(frames_only(t)),
         "labelled.json: image synth_train_000__000001.jpg, region 1: rectangle (nan, 10, 50 x 60) has a coordinate "
         "that is not a finite number"),
    Case("extract: --fps nan", "extract_frames", lambda t: [video_file(t), "--out", t / "out", "--fps", "nan"],
         "argument --fps: nan is not"),
    Case("extract: --end-sec -1", "extract_frames", lambda t: [video_file(t), "--out", t / "out", "--end-sec=-1"],
         "argument --end-sec: -1 is not"),
    Case("prepare_frames: --quality 0", "prepare_frames",
         lambda t: [dataset(t), "--cfg", TINY_CFG, "--out", t / "out", "--quality", "0"],
         "argument --quality: 0 is not an integer >= 1 and <= 100"),
    Case("prepare_frames: --workers 0", "prepare_frames",
         lambda t: [dataset(t), "--cfg", TINY_CFG, "--out", t / "out", "--workers", "0"],
         "argument --workers: 0 is not an integer >= 1"),
    Case("prepare_frames: --out under a regular file", "prepare_frames",
         lambda t: [dataset(t), "--cfg", TINY_CFG, "--out", file_in(t, "file") / "store"],
         "in/file is a file, not a folder"),
    Case("frames_to_video: frames folder missing", "frames_to_video",
         lambda t: [t / "in" / "nothing", t / "out" / "v.mp4"], "argument frames: "),
    Case("frames_to_video: output is a folder", "frames_to_video",
         lambda t: [dataset(t) / "frames" / TRAIN_VIDEO, t / "in"], "is a folder; give a file name"),
    Case("make_subset: --videos missing", "make_subset",
         lambda t: ["--out", t / "out", "--videos", t / "in" / "videos"], "argument --videos: "),
    Case("make_subset: --train-ids-file missing", "make_subset",
         lambda t: ["--out", t / "out", "--train-ids-file", t / "in" / "ids.txt"], "ids.txt: file not found"),
    Case("make_synthetic: --fps 0", "make_synthetic", lambda t: ["--out", t / "out", "--fps", "0"],
         "argument --fps: 0 is not an integer >= 1"),
    Case("export_model: --atol nan", "export_model", lambda t: export_model_args(t, "--atol", "nan"),
         "argument --atol: nan is not"),
    Case("export_model: --checkpoint missing", "export_model",
         lambda t: ["--cfg", TINY_CFG, "--checkpoint", t / "in" / "none.pyth", "--format", "onnx"],
         "none.pyth: file not found"),
    Case("export_model: --out a folder", "export_model", lambda t: export_model_args(t, "--out", t / "in"),
         "is a folder; give a file name"),
]


def _ids():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return ids


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_bad_input_is_one_line_and_writes_nothing(case: Case, tmp_path, capsys):
    argv = case.build(tmp_path)
    (tmp_path / "in").mkdir(exist_ok=True)
    before = snapshot(tmp_path / "in")
    capsys.readouterr()
    code = run(case.tool, argv)
    out, err = capsys.readouterr()
    assert code == case.code, f"exit {code}, stdout:\n{out}\nstderr:\n{err}"
    text = err if case.code == 2 else out
    assert case.message in text, f"expected {case.message!r} in:\n{text}"
    assert "Traceback" not in out + err
    if case.code == 2:
        assert len([line for line in err.splitlines() if line.startswith("error:") or ": error: " in line]) == 1, err
    assert snapshot(tmp_path / "in") == before, "the tool changed its inputs"
    if not case.output_may_exist:
        assert not (tmp_path / "out").exists(), "the tool wrote output for bad input"


def test_the_table_covers_every_tool_that_reads_user_files():
    assert len(CASES) >= 110
    used = {c.tool for c in CASES}
    assert {"check_dataset", "run_net", "extract_frames", "detect_and_track", "export_via", "import_via",
            "make_subset", "make_synthetic", "frames_to_video", "annotate", "prepare_frames", "export_model"} <= used


# ---------------------------------------------------------------------------
# Processes and state (issue 21): the OUTPUT_DIR lock, children that die with their tool, native crashes
# ---------------------------------------------------------------------------

HOLD_SCRIPT = """
import sys, time
from slowfast_custom.fileio import hold_folder
with hold_folder(sys.argv[1], "OUTPUT_DIR"):
    print("held", flush=True)
    time.sleep(600)
"""


def _holder(folder: Path):
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_training_on_a_held_output_dir_says_so(tmp_path, capsys):
    data = dataset(tmp_path)
    holder = _holder(tmp_path / "out")
    try:
        code = run("run_net", train_args(tmp_path, data))
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and f"out: OUTPUT_DIR is in use by another run (process {holder.pid})" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "config.yaml").exists(), "the refused run wrote into the held folder"


def test_a_test_run_on_a_held_output_dir_says_so(tmp_path, capsys):
    data = dataset(tmp_path)
    holder = _holder(tmp_path / "out")
    try:
        code = run("run_net", train_args(tmp_path, data, "TRAIN.ENABLE", "False", "TEST.ENABLE", "True"))
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and f"out: OUTPUT_DIR is in use by another run (process {holder.pid})" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "eval").exists(), "the refused run wrote into the held folder"


def test_a_killed_holder_does_not_block_the_folder(tmp_path):
    from slowfast_custom.errors import UserError
    from slowfast_custom.fileio import hold_folder

    holder = _holder(tmp_path / "out")
    with pytest.raises(UserError, match="in use by another run"):
        with hold_folder(tmp_path / "out", "OUTPUT_DIR"):
            pass
    holder.kill()  # SIGKILL: no cleanup runs, the OS drops the lock
    holder.wait()
    with hold_folder(tmp_path / "out", "OUTPUT_DIR"):
        with pytest.raises(UserError, match="in use"):  # held again, by this process now
            with hold_folder(tmp_path / "out", "OUTPUT_DIR"):
                pass


def _frames(folder: Path, count: int, size: Tuple[int, int]) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, count + 1):
        pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{folder.name}_{i:06d}.jpg", quality=90)


def test_prepare_frames_workers_die_with_the_tool(tmp_path):
    import os
    import signal
    import subprocess

    psutil = pytest.importorskip("psutil")
    data = tmp_path / "data"
    for video in ("v1", "v2", "v3"):
        _frames(data / "frames" / video, 150, (960, 720))
    proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "prepare_frames.py"), str(data),
                             "--cfg", str(TINY_CFG),
                             "--workers", "1", "--out", str(tmp_path / "store")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tool = psutil.Process(proc.pid)
    workers = []
    while not workers and proc.poll() is None:
        workers = tool.children()
    if not workers:
        pytest.skip("the tool finished before its worker could be seen")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive, f"workers outlived the killed tool: {alive}"


def test_tiny_frames_are_refused_before_the_detector_runs(tmp_path):
    """HOG on frames smaller than its window crashes inside OpenCV (a segfault), so this runs in a subprocess: frames
    under 32 px a side are refused, larger ones smaller than the window are enlarged to fit it."""
    from conftest import run_tool

    data = tmp_path / "data"
    _frames(data / "frames" / "tiny", 150, (1, 1))
    result = run_tool("detect_and_track.py", "--data", data, "--embedder", "histogram", "--threads", "1",
                      "--margin-sec", "0", timeout=300)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "error: a 1x1 px frame is smaller than 32 px a side, too small to find people in" in result.stderr
    assert "Traceback" not in result.stderr
    # At most the settings marker, which a retry with the same settings reads to resume: no tracks, no boxes.
    assert {p.name for p in (data / "detections").glob("*")} <= {"settings.json"}


def test_a_corrupt_frame_store_manifest_is_named_and_rebuilt(tmp_path):
    import json

    from conftest import run_tool

    data = dataset(tmp_path)
    store = tmp_path / "store"
    args = [data, "--cfg", TINY_CFG, "--out", store, "--workers", "1"]
    assert run_tool("prepare_frames.py", *args).returncode == 0
    manifest = store / "frame_store.json"
    truncate(manifest)
    again = run_tool("prepare_frames.py", *args)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert "frame_store.json: not a frame store manifest" in again.stderr
    assert json.loads(manifest.read_text())["videos"], "the manifest was not rebuilt"
