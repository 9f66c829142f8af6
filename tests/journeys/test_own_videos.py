"""Journey: your own videos, command by command as the README gives them, on real video of several sizes,
aspect ratios and frame rates.

extract -> detect and track -> label (the VIA route, and the labelling app driven over HTTP and in the browser)
-> check -> prepare the frame store -> train the tiny config with its test pass -> demo on a 29.97 fps video
with default settings -> export to ONNX -> the onnxruntime demo. Each step's outputs are checked against what
the next step expects: seconds, frame counts, frame rates, person ids, the store really read.
"""

from __future__ import annotations

import csv
import json
import shutil
import urllib.request
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Dict, List

import av
import pytest

from slowfast_custom.ava.formats import read_box_csv, read_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_FPS, DEFAULT_MARGIN_SEC

from conftest import TINY_CFG, run_tool
from journey_videos import NTSC, make_clip, vtest

pytestmark = [pytest.mark.journey, pytest.mark.slow]

ACTIONS = ("walk", "stand")  # ids 1 and 2 in the label map the import writes
TRAIN, VAL = ("clip640", "vtest_a"), ("clip426", "vtest_b")  # val mixes 16:9 and 4:3 frames
SHORT = "short"  # 2.6 s: shorter than the two labelling margins, so no keyframe
# Small enough for 2 CPU cores; the test pass keeps the config's batch of 8 (val frames of two widths in one batch).
TRAIN_OVERRIDES = ["MODEL.NUM_CLASSES", "2", "SOLVER.MAX_EPOCH", "1", "TRAIN.BATCH_SIZE", "2",
                   "DATA_LOADER.NUM_WORKERS", "0", "LOG_PERIOD", "5"]


def ok(result) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def duration(video: Path) -> float:
    with av.open(str(video)) as container:
        return container.duration / 1e6


def frame_list_counts(path: Path) -> Counter:
    with open(path) as f:
        return Counter(line.split(" ")[0] for line in list(f)[1:])


def action_of(person_id: int) -> str:
    """The scripted labeller's rule: odd track ids walk, even ones stand."""
    return ACTIONS[person_id % 2 == 0]


@dataclass
class Journey:
    root: Path
    durations: Dict[str, float]  # video id -> seconds of what was extracted

    @property
    def data(self) -> Path:
        return self.root / "dataset"

    @property
    def actions(self) -> Path:
        return self.root / "actions.txt"

    @property
    def train_dir(self) -> Path:
        return self.root / "train"


@pytest.fixture(scope="module")
def journey(tmp_path_factory) -> Journey:
    """Videos made, frames extracted, people detected and tracked: what a user has before labelling."""
    root = tmp_path_factory.mktemp("own_videos")
    videos = root / "clips"
    # Crops at the source's scale: HOG sees no one under 128 px, and vtest's walkers are about 140 px tall.
    make_clip(videos / "clip426.mp4", 20, 6, 426, 240, NTSC, crop=(250, 170, 426, 240))
    make_clip(videos / "clip640.mp4", 22, 6, 640, 360, Fraction(25), crop=(100, 110, 640, 360))
    make_clip(videos / f"{SHORT}.mp4", 50, 2.6, 320, 240, Fraction(15), crop=(300, 150, 320, 240))
    data = root / "dataset"
    ok(run_tool("extract_frames.py", videos, "--out", data))
    durations = {v.stem: duration(v) for v in videos.iterdir()}
    for video_id, start in (("vtest_a", 20), ("vtest_b", 40)):
        ok(run_tool("extract_frames.py", vtest(), "--out", data, "--id", video_id, "--start-sec", start,
                    "--end-sec", start + 6))
        durations[video_id] = 6.0
    ok(run_tool("detect_and_track.py", "--data", data, "--detector", "hog", "--track-fps", "2", "--threads", "1"))
    (root / "actions.txt").write_text("\n".join(ACTIONS) + "\n")
    return Journey(root, durations)


def test_extracted_frames_match_each_videos_duration_and_rate(journey):
    counts = frame_list_counts(journey.data / "frame_lists" / "all.csv")
    assert set(counts) == set(journey.durations)
    for video_id, seconds in journey.durations.items():
        on_disk = len(list((journey.data / "frames" / video_id).glob("*.jpg")))
        assert on_disk == counts[video_id], video_id
        assert abs(on_disk - seconds * DEFAULT_FPS) <= 1, (video_id, on_disk, seconds)


def test_tracks_lie_on_keyframes_inside_the_margins(journey):
    tracks = read_tracks_csv(journey.data / "detections" / "tracks.csv")
    by_video = {}
    for row in tracks:
        by_video.setdefault(row.video_id, set()).add(row.second)
    assert set(by_video) >= set(TRAIN + VAL), "HOG found no one in some clip of vtest.avi"
    assert SHORT not in by_video
    for video_id, seconds in by_video.items():
        last = journey.durations[video_id] - DEFAULT_MARGIN_SEC
        assert min(seconds) >= DEFAULT_MARGIN_SEC and max(seconds) <= last, (video_id, sorted(seconds))
    predicted = read_box_csv(journey.data / "detections" / "predicted_boxes.csv", "predicted")
    assert {(r.video_id, r.second, r.box) for r in predicted} >= {(r.video_id, r.second, r.box) for r in tracks}


@pytest.fixture(scope="module")
def via_labelled(journey) -> Path:
    """The VIA route: export, a labeller's edits to the project file, import with two val videos."""
    out = ok(run_tool("export_via.py", "--data", journey.data, "--actions", journey.actions))
    assert SHORT in out  # left out, and the user told why
    project_file = journey.data / "via" / "via_project.json"
    project = json.loads(project_file.read_text())
    for entry in project["_via_img_metadata"].values():
        assert not entry["filename"].startswith(SHORT)
        for region in entry["regions"]:
            attributes = region["region_attributes"]
            attributes["action"] = {action_of(int(attributes["person_id"])): True}
    labelled = journey.root / "labelled_via.json"
    labelled.write_text(json.dumps(project))
    # The app route starts from the same tracked dataset: a copy made before the import writes annotations.
    shutil.copytree(journey.data, journey.root / "dataset_app", ignore=shutil.ignore_patterns("via"))
    ok(run_tool("import_via.py", labelled, "--data", journey.data, "--actions", journey.actions,
                "--val-videos", ",".join(VAL)))
    return journey.data / "annotations"


def test_via_import_keeps_every_tracked_box_with_its_id_and_second(journey, via_labelled):
    tracks = read_tracks_csv(journey.data / "detections" / "tracks.csv")
    names = json.loads((via_labelled / "ava.json").read_text())  # the demo's {name: 0-based index}
    assert sorted(names, key=names.get) == list(ACTIONS)
    rows = {"train": read_box_csv(via_labelled / "ava_train_v2.2.csv", "gt"),
            "val": read_box_csv(via_labelled / "ava_val_v2.2.csv", "gt")}
    assert {r.video_id for r in rows["train"]} == set(TRAIN) and {r.video_id for r in rows["val"]} == set(VAL)
    written = {(r.video_id, r.second, r.person_id, r.box, r.action_id) for split in rows.values() for r in split}
    expected = {(r.video_id, r.second, r.person_id, r.box, names[action_of(r.person_id)] + 1) for r in tracks}
    assert written == expected
    # The frame lists name every extracted frame, split as the annotations are.
    extracted = frame_list_counts(journey.data / "frame_lists" / "all.csv")
    for split, videos in (("train", TRAIN), ("val", VAL)):
        counts = frame_list_counts(journey.data / "frame_lists" / f"{split}.csv")
        assert counts == {v: extracted[v] for v in videos}


def api(url: str, path: str, body=None) -> dict:
    request = urllib.request.Request(url.rstrip("/") + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_the_labelling_app_writes_what_the_via_route_writes(journey, via_labelled):
    """tools/annotate.py as a user starts it, driven over its HTTP API as its page does (one step in the
    browser when Chromium is here): the same labels give the same AVA files as the VIA route."""
    from benchmarks.browser import AppServer, browser_missing, launch_browser, open_page

    data = journey.root / "dataset_app"
    server = AppServer(data, journey.root / "annotate.log", ["--actions", str(journey.actions)]).start()
    try:
        state = api(server.url, "/api/project")
        assert set(v["name"] for v in state["videos"]) == set(TRAIN + VAL)
        assert all(v["seconds"] for v in state["videos"])
        ids = {a["name"]: a["id"] for a in state["actions"]}
        if browser_missing() is None:  # the page itself: it loads the project and a keyframe, without errors
            with launch_browser() as browser:
                page = open_page(browser, server.url)
                assert int(page.get_attribute("body", "data-revision")) == 0 and not page.errors
        tracks: Dict[tuple, List[int]] = {}
        for box in state["boxes"]:
            tracks.setdefault((box["video"], box["person"]), []).append(box["second"])
        revision = state["revision"]
        for (video, person), seconds in sorted(tracks.items()):
            reply = api(server.url, "/api/change", {"op": "label", "revision": revision, "video": video,
                                                    "person": person, "first": min(seconds), "last": max(seconds),
                                                    "actions": [ids[action_of(person)]]})
            assert reply["result"]["boxes"] == len(seconds)
            revision = reply["state"]["revision"]
        reply = api(server.url, "/api/export", {"val_videos": list(VAL)})
        assert reply["unlabelled"] == 0, reply
    finally:
        server.kill()
    names = sorted(p.name for p in via_labelled.iterdir())
    assert sorted(p.name for p in (data / "annotations").iterdir()) == names
    for name in names:
        assert (data / "annotations" / name).read_text() == (via_labelled / name).read_text(), name
    for name in ("train.csv", "val.csv"):
        assert (data / "frame_lists" / name).read_text() == (journey.data / "frame_lists" / name).read_text()


@pytest.fixture(scope="module")
def trained(journey, via_labelled) -> Path:
    """check -> prepare the frame store -> train with the test pass, the original frames moved away."""
    data = journey.data
    check = ok(run_tool("check_dataset.py", data, "--cfg", TINY_CFG, "MODEL.NUM_CLASSES", "2"))
    assert "0 errors" in check, check
    ok(run_tool("prepare_frames.py", data, "--cfg", TINY_CFG))
    stores = [p for p in data.iterdir() if p.is_dir() and p.name.startswith("frames_")]
    assert len(stores) == 1, stores
    for video_id in TRAIN + VAL:
        stored = len(list((stores[0] / video_id).glob("*.jpg")))
        assert stored == len(list((data / "frames" / video_id).glob("*.jpg"))), video_id
    # Training must read the store: with the originals gone, any read of them fails.
    hidden = journey.root / "frames_moved_away"
    (data / "frames").rename(hidden)
    try:
        log = ok(run_tool("run_net.py", "--cfg", TINY_CFG, "DATA.PATH_TO_DATA_DIR", data,
                          "OUTPUT_DIR", journey.train_dir, *TRAIN_OVERRIDES))
    finally:
        hidden.rename(data / "frames")
    assert f"Reading frames from the store {stores[0]}" in log, log[-3000:]
    return journey.train_dir


def test_training_ran_its_test_pass_on_val_frames_of_two_widths(journey, trained):
    assert (trained / "checkpoints" / "checkpoint_epoch_00001.pyth").is_file()
    metrics = json.loads((trained / "eval" / "test_metrics.json").read_text())
    assert set(metrics["videos"]) == set(VAL) and set(metrics["per_class_ap"]) == set(ACTIONS)
    gt = read_box_csv(journey.data / "annotations" / "ava_val_v2.2.csv", "gt")
    assert metrics["num_gt_boxes"] == len(gt)
    # Every labelled val keyframe is scored, in the seconds the annotations use.
    scored = {(r.video_id, r.second) for r in read_box_csv(trained / "eval" / "test_detections.csv", "predicted")}
    assert scored == {(r.video_id, r.second) for r in gt}


def demo_args(journey: Journey, output: Path, *extra: str) -> List[str]:
    """The README's demo command on the 29.97 fps clip: everything else at its default (HOG: offline)."""
    return ["--cfg", TINY_CFG, "DATA.PATH_TO_DATA_DIR", journey.data, "OUTPUT_DIR", journey.train_dir,
            "MODEL.NUM_CLASSES", "2", "DEMO.ENABLE", "True", "DEMO.INPUT_VIDEO", journey.root / "clips" / "clip426.mp4",
            "DEMO.OUTPUT_FILE", output, "DEMO.LABEL_FILE_PATH", journey.data / "annotations" / "ava.json",
            "DEMO.DETECTOR", "hog", *extra]


def predictions(output: Path) -> dict:
    return json.loads(output.with_name(output.stem + "_predictions.json").read_text())


@pytest.fixture(scope="module")
def demo_output(journey, trained) -> Path:
    output = journey.root / "demo" / "clip426_demo.mp4"
    ok(run_tool("run_net.py", *demo_args(journey, output)))
    return output


def test_the_demo_keeps_the_videos_own_time_frames_and_rate(journey, demo_output):
    seconds = journey.durations["clip426"]
    with av.open(str(demo_output)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        assert abs(float(stream.average_rate) - float(NTSC)) < 0.01
    assert abs(frames - seconds * float(NTSC)) <= 1
    doc = predictions(demo_output)
    assert doc["predictions"], "HOG found no one in the 29.97 fps clip with the demo's defaults"
    for record in doc["predictions"]:  # the video's own time, from 0 (not AVA's 900)
        # the keyframe is the frame nearest the second: at 29.97 fps second 2 is frame 60, at 2.002 s
        assert 0 <= record["second"] <= seconds and abs(record["second"] - record["time"]) <= 0.5 / float(NTSC), record
        assert record["frame"] == round(record["second"] * float(NTSC)), record
        assert 0 <= record["frame"] < frames
    with open(demo_output.with_name(demo_output.stem + "_predictions.csv")) as f:
        rows = list(csv.reader(f))
    assert rows and all(0 <= int(r[1]) <= seconds for r in rows)
    assert {r[6] for r in rows} <= {"1", "2"}


def test_the_exported_model_in_onnxruntime_shows_what_pytorch_shows(journey, trained, demo_output):
    from conftest import require_onnxruntime

    require_onnxruntime()
    checkpoint = trained / "checkpoints" / "checkpoint_epoch_00001.pyth"
    onnx_file = journey.root / "model.onnx"
    ok(run_tool("export_model.py", "--cfg", TINY_CFG, "--checkpoint", checkpoint, "--format", "onnx",
                "--out", onnx_file, "DATA.PATH_TO_DATA_DIR", journey.data, "MODEL.NUM_CLASSES", "2"))
    output = journey.root / "demo" / "clip426_onnx.mp4"
    ok(run_tool("run_net.py", *demo_args(journey, output, "DEMO.BACKEND", "onnxruntime",
                                         "DEMO.ONNX_FILE", onnx_file)))
    torch_records, onnx_records = predictions(demo_output)["predictions"], predictions(output)["predictions"]
    assert len(onnx_records) == len(torch_records)
    for a, b in zip(torch_records, onnx_records):
        assert (a["second"], a["box"], a["person_id"]) == (b["second"], b["box"], b["person_id"])
        best = max(a["scores"], key=a["scores"].get)
        assert best == max(b["scores"], key=b["scores"].get)
        assert all(abs(a["scores"][k] - b["scores"][k]) < 1e-3 for k in a["scores"])
