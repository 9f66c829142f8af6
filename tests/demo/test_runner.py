"""The whole demo on a short rendered video and on ../shared/data/vtest.avi, with a tiny model on the CPU."""

import json
import logging

import numpy as np
import pytest

from slowfast_custom.ava.formats import read_box_csv
from slowfast_custom.demo.draw import PALETTE
from slowfast_custom.demo.results import output_paths
from slowfast_custom.demo.runner import run_demo
from slowfast_custom.errors import CheckpointError, DataError, UserError
from slowfast_custom.video.frames import probe

from conftest import run_tool, shared_file, tiny_cfg
from demo_fixtures import VIDEO_ID, decode, demo_setup, save_tiny_checkpoint  # noqa: F401  (fixture)


def edge_and_inside(frame, box, width, height):
    """Mean colour on the middle of the box's left edge, and at its centre."""
    x1, y1, x2, y2 = (round(v * s) for v, s in zip(box, (width, height, width, height)))
    rows = slice(y1 + (y2 - y1) // 3, y2 - (y2 - y1) // 3)
    edge = frame[rows, max(0, x1 - 1):x1 + 1].reshape(-1, 3).mean(0)
    cy, cx = (y1 + y2) // 2, (x1 + x2) // 2
    return edge, frame[cy - 1:cy + 2, cx - 1:cx + 2].reshape(-1, 3).mean(0)


def assert_boxes_drawn(record_groups, inputs, outputs, width, height, offset=2):
    """Each person's box is in its colour on the output, a few frames after its keyframe, and not inside."""
    for records in record_groups:
        frame = records[0]["frame"] + offset
        for order, record in enumerate(records):
            color = PALETTE[(record["person_id"] if record["person_id"] is not None else order) % len(PALETTE)]
            edge_out, inside_out = edge_and_inside(outputs[frame].astype(float), record["box"], width, height)
            edge_in, inside_in = edge_and_inside(inputs[frame].astype(float), record["box"], width, height)
            assert np.abs(edge_out - color).max() < 70, (record, edge_out, color)
            assert np.abs(edge_in - color).max() > 70  # the colour is the demo's, not the video's
            assert np.abs(inside_out - inside_in).max() < 30, record  # nothing drawn inside the box


def by_keyframe(records):
    groups = {}
    for record in records:
        groups.setdefault(record["frame"], []).append(record)
    return [groups[k] for k in sorted(groups)]


@pytest.fixture(scope="module")
def synthetic_run(demo_setup):
    output = demo_setup.work / "run" / "demo.mp4"
    cfg = demo_setup.cfg(output, "DEMO.GT_BOXES", str(demo_setup.gt_boxes), "DEMO.VIS_MODE", "top-k", "DEMO.TOPK", "1")
    return run_demo(cfg)


def test_output_video_has_the_input_frames_size_and_rate(demo_setup, synthetic_run):
    inp, out = probe(demo_setup.video), probe(synthetic_run.video)
    assert (out.width, out.height, out.fps, out.codec) == (inp.width, inp.height, inp.fps, "h264")
    assert len(decode(synthetic_run.video)) == len(decode(demo_setup.video)) == synthetic_run.frames == 120


def test_boxes_are_drawn_where_the_predictions_say(demo_setup, synthetic_run):
    records = json.loads(synthetic_run.json.read_text())["predictions"]
    groups = by_keyframe(records)
    assert [g[0]["frame"] for g in groups] == [30, 60]  # the CSV has people at seconds 1 and 2
    assert_boxes_drawn(groups, decode(demo_setup.video), decode(synthetic_run.video), 160, 120)


def test_predictions_csv_and_json(demo_setup, synthetic_run):
    doc = json.loads(synthetic_run.json.read_text())
    assert (doc["video_id"], doc["frames"], doc["fps"], doc["classes"]) == (VIDEO_ID, 120, 30.0,
                                                                             ["stand", "walk", "jump", "wave"])
    records = doc["predictions"]
    expected = [r for r in read_box_csv(demo_setup.preds_boxes, "predicted")
                if r.video_id == VIDEO_ID and r.score >= 0.8]
    assert sorted((r["second"], tuple(r["box"])) for r in records) == sorted((r.second, r.box) for r in expected)
    for record in records:
        assert len(record["shown"]) == 1  # top-k, DEMO.TOPK 1
        assert record["shown"][0][1] == max(record["scores"].values())
    rows = read_box_csv(synthetic_run.csv, "predicted")
    assert len(rows) == 4 * len(records)  # every class of every person
    first = records[0]
    assert {(r.action_id, round(r.score, 4)) for r in rows if r.second == first["second"] and
            r.box == tuple(first["box"])} == {(i + 1, first["scores"][n]) for i, n in enumerate(doc["classes"])}


def test_video_with_nobody_still_gives_a_video_and_says_so(demo_setup, tmp_path, caplog):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with caplog.at_level(logging.INFO):
        summary = run_demo(demo_setup.cfg(tmp_path / "out.mp4", "DEMO.PREDS_BOXES", str(empty)))
    assert summary.person_boxes == 0 and summary.frames == 120 and summary.video.is_file()
    assert "No person was found" in caplog.text and "NO PERSON FOUND" in caplog.text
    assert json.loads(summary.json.read_text())["predictions"] == []


def test_hog_finds_no_stick_figure_and_the_demo_still_renders(demo_setup, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        summary = run_demo(demo_setup.cfg(tmp_path / "out.mkv", "DEMO.PREDS_BOXES", "", "DEMO.DETECTOR", "hog",
                                          "DEMO.MAX_SECONDS", "2"))
    assert summary.frames == 60 and summary.person_boxes == 0 and summary.video.is_file()
    assert "No person was found" in caplog.text


def test_label_file_must_name_as_many_classes_as_the_head(demo_setup, tmp_path):
    labels = tmp_path / "ava.json"
    labels.write_text(json.dumps({n: i for i, n in enumerate(["a", "b", "c", "d", "e"])}))
    with pytest.raises(DataError, match=r"ava\.json: names 5 classes, but the model from .* predicts 4"):
        run_demo(demo_setup.cfg(tmp_path / "out.mp4", "DEMO.LABEL_FILE_PATH", str(labels)))
    assert list(tmp_path.iterdir()) == [labels]


def test_a_head_for_another_class_count_is_an_error(demo_setup, tmp_path):
    other = tmp_path / "train6"
    save_tiny_checkpoint(demo_setup.data, other, "MODEL.NUM_CLASSES", "6")
    cfg = tiny_cfg(demo_setup.data, other, *demo_setup.overrides(tmp_path / "out.mp4"))
    with pytest.raises(CheckpointError, match="tensors of the model are not in the checkpoint.*NUM_CLASSES"):
        run_demo(cfg)
    assert not (tmp_path / "out.mp4").exists()


def bad_inputs(setup, tmp_path):
    text = tmp_path / "notavideo.mp4"
    text.write_text("hello\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    not_json = tmp_path / "labels.json"
    not_json.write_text("{'stand': 0}\n")
    gaps = tmp_path / "gaps.json"
    gaps.write_text('{"stand": 0, "walk": 2}\n')
    rows = setup.preds_boxes.read_text().splitlines()
    malformed = tmp_path / "preds.csv"
    malformed.write_text("\n".join(rows[:2] + ["synth_val_000,0001,0.1,0.2,0.3"] + rows[2:]) + "\n")
    return {
        "missing video": (["DEMO.INPUT_VIDEO", str(tmp_path / "missing.mp4")],
                          r"missing\.mp4: input video not found\. Set DEMO\.INPUT_VIDEO"),
        "unreadable video": (["DEMO.INPUT_VIDEO", str(text)], r"notavideo\.mp4: cannot read video"),
        "unwritable output": (["DEMO.OUTPUT_FILE", str(blocker / "out.mp4")],
                              r"blocker/out\.mp4: \S*blocker is a file, not a folder"),
        "label file not JSON": (["DEMO.LABEL_FILE_PATH", str(not_json)], r"labels\.json:1: not valid JSON"),
        "label ids with gaps": (["DEMO.LABEL_FILE_PATH", str(gaps)], r"gaps\.json: indices must be 0\.\.1"),
        "malformed boxes": (["DEMO.PREDS_BOXES", str(malformed)], r"preds\.csv:3: predicted-box rows need 8 columns"),
        "missing detector weights": (["DEMO.PREDS_BOXES", "", "DEMO.DETECTOR_WEIGHTS", str(tmp_path / "frcnn.pth")],
                                     r"frcnn\.pth: Faster R-CNN weights file not found"),
        "missing calibrated thresholds": (["DEMO.VIS_MODE", "calibrated"],
                                          r"checkpoints/thresholds\.json: calibrated thresholds not found\. Train "
                                          r"with TRAIN\.EVAL_PERIOD > 0"),
    }


@pytest.mark.parametrize("case", ["missing video", "unreadable video", "unwritable output", "label file not JSON",
                                  "label ids with gaps", "malformed boxes", "missing detector weights",
                                  "missing calibrated thresholds"])
def test_bad_input_is_one_error_naming_the_file(demo_setup, tmp_path, case):
    overrides, message = bad_inputs(demo_setup, tmp_path)[case]
    output = tmp_path / "out.mp4"
    with pytest.raises(UserError, match=message) as err:
        run_demo(demo_setup.cfg(output, *overrides))
    assert "\n" not in str(err.value)
    assert not output.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.slow
def test_command_line_error_is_one_line_and_a_nonzero_exit(demo_setup, tmp_path):
    overrides, message = bad_inputs(demo_setup, tmp_path)["malformed boxes"]
    proc = run_tool("run_net.py", *demo_setup.args(tmp_path / "out.mp4", *overrides))
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "preds.csv:3:" in last and "Traceback" not in proc.stderr


def test_an_interrupted_run_leaves_no_output(demo_setup, tmp_path, monkeypatch):
    from slowfast_custom.demo import predictor

    calls = []

    def interrupt(self, *args):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(predictor.ActionPredictor, "__call__", interrupt)
    output = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        run_demo(demo_setup.cfg(output))
    assert calls and list(tmp_path.iterdir()) == []
    assert not any(p.exists() for p in output_paths(output))


@pytest.mark.slow
def test_vtest_with_the_hog_detector(demo_setup, tmp_path):
    """A real 10 fps street video, 2 seconds of it, people from OpenCV's HOG detector."""
    video = shared_file("data", "vtest.avi")
    output = tmp_path / "vtest_demo.mp4"
    summary = run_demo(demo_setup.cfg(output, "DEMO.INPUT_VIDEO", str(video), "DEMO.PREDS_BOXES", "",
                                      "DEMO.DETECTOR", "hog", "DEMO.DETECTRON2_THRESH", "0.5",
                                      "DEMO.MAX_SECONDS", "2", "DEMO.VIS_MODE", "top-k"))
    out = probe(output)
    assert (out.width, out.height, out.fps) == (768, 576, 10)
    outputs, inputs = decode(output), decode(video)[:20]
    assert len(outputs) == summary.frames == 20
    records = json.loads(summary.json.read_text())["predictions"]
    assert summary.person_boxes == len(records) > 0
    assert {r["second"] for r in records} <= {0, 1}
    assert_boxes_drawn(by_keyframe(records), inputs, outputs, 768, 576)


def test_predictions_are_in_the_videos_own_seconds_and_read_back_as_boxes(demo_setup, synthetic_run, tmp_path):
    """DEMO.STARTING_SECOND left at its default: a video of one's own starts at its second 0 (not AVA's 900), so
    the predictions CSV names the video's own seconds and is a DEMO.PREDS_BOXES file for the same video."""
    from slowfast_custom.config import get_cfg

    assert get_cfg().DEMO.STARTING_SECOND is None
    doc = json.loads(synthetic_run.json.read_text())
    rows = read_box_csv(synthetic_run.csv, "predicted")
    assert doc["starting_second"] == 0 and {r.second for r in rows} == {1, 2}  # the people are at 1 s and 2 s
    again = run_demo(demo_setup.cfg(tmp_path / "again.mp4", "DEMO.PREDS_BOXES", str(synthetic_run.csv),
                                    "AVA.DETECTION_SCORE_THRESH", "0.0"))
    records = json.loads(again.json.read_text())["predictions"]
    assert sorted({(r["second"], tuple(r["box"])) for r in records}) == sorted({(r.second, r.box) for r in rows})


def test_detector_score_threshold_is_one_default_for_the_demo_and_detect_and_track(tmp_path, monkeypatch):
    from slowfast_custom.commands import detect_and_track as tool  # tools/detect_and_track.py's code
    from slowfast_custom.config import DETECTOR_SCORE_THRESH, get_cfg
    from slowfast_custom.detection import build_detector

    asked = {}

    class Stop(Exception):
        pass

    def fake_build(name, **kwargs):
        asked.update(kwargs, name=name)
        raise Stop

    monkeypatch.setattr(tool, "build_detector", fake_build)
    with pytest.raises(Stop):
        tool.main(["--data", str(tmp_path)])
    assert asked["name"] == "hog"
    assert asked["score_thresh"] == get_cfg().DEMO.DETECTRON2_THRESH == DETECTOR_SCORE_THRESH
    assert build_detector("hog").score_thresh == DETECTOR_SCORE_THRESH


def test_offline_default_detector_names_the_key_that_selects_hog(demo_setup, tmp_path, monkeypatch):
    import socket

    from slowfast_custom.detection import torchvision_frcnn

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    with socket.socket() as sock:  # a port nothing listens on: the download fails at once, as offline
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    name = torchvision_frcnn.weights_url().rsplit("/", 1)[1]
    monkeypatch.setattr(torchvision_frcnn, "weights_url", lambda: f"http://127.0.0.1:{port}/{name}")
    with pytest.raises(UserError, match="cannot download torchvision's COCO Faster R-CNN weights") as err:
        run_demo(demo_setup.cfg(tmp_path / "out.mp4", "DEMO.PREDS_BOXES", ""))
    assert "\n" not in str(err.value) and "DEMO.DETECTOR hog" in str(err.value)


@pytest.mark.slow
def test_vtest_tracked_boxes_follow_the_walkers_between_keyframes(demo_setup, tmp_path, monkeypatch):
    """With DEMO.TRACK, each frame shows each person's tracked box (interpolated between the frames the tracker
    saw), not the keyframe's box for a whole second."""
    from slowfast_custom.demo.draw import Painter, person_color
    from slowfast_custom.demo.video_io import VideoWriter

    video = shared_file("data", "vtest.avi")
    drawn, written = [], []
    person, write = Painter.person, VideoWriter.write

    def record_person(self, image, who, labels, order, show_id):
        drawn.append((len(written), who.person_id, self.box_px(who), person_color(who, order)))
        return person(self, image, who, labels, order, show_id)

    def record_write(self, image):
        written.append(image.copy())
        return write(self, image)

    monkeypatch.setattr(Painter, "person", record_person)
    monkeypatch.setattr(VideoWriter, "write", record_write)
    output = tmp_path / "tracked.mp4"
    summary = run_demo(demo_setup.cfg(output, "DEMO.INPUT_VIDEO", str(video), "DEMO.PREDS_BOXES", "",
                                      "DEMO.DETECTOR", "hog", "DEMO.TRACK", "True", "DEMO.MAX_SECONDS", "2",
                                      "DEMO.VIS_MODE", "top-k", "DEMO.TOPK", "1"))
    assert summary.frames == len(written) == 20 and summary.person_boxes > 0
    by_track = {}
    for frame, track, box, color in drawn:
        if 0 < frame < 10:  # strictly between the keyframes at 0 s and 1 s
            by_track.setdefault(track, {})[frame] = (box, color)
    moved = {t: boxes for t, boxes in by_track.items() if len({b for b, _ in boxes.values()}) >= 5}
    assert moved, by_track  # someone's box changed on most frames between the keyframes
    track, boxes = max(moved.items(), key=lambda kv: abs(min(kv[1].values())[0][0] - max(kv[1].values())[0][0]))
    xs = [box[0] for box, _ in boxes.values()]
    assert max(xs) - min(xs) >= 4  # pixels: the walker's box went with them
    # What is recorded is what the video shows: each of those frames has the box's left edge in the track's colour.
    for frame, ((x1, y1, _x2, y2), color) in boxes.items():
        edge = written[frame][y1 + (y2 - y1) // 3:y2 - (y2 - y1) // 3, x1].astype(float).mean(0)
        assert np.abs(edge - color).max() < 40, (frame, edge, color)
    records = json.loads(summary.json.read_text())["predictions"]
    assert any(r["person_id"] == track for r in records)  # the box carries the actions predicted for its track
