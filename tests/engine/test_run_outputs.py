"""What a tiny training + evaluation run leaves for its user, checked against the run's own numbers:
calibrated thresholds (and the demo using them), TensorBoard event files, and report.md with its plots."""

import json
import logging
from collections import defaultdict

import numpy as np
import pytest

from slowfast_custom.ava.formats import read_box_csv

from conftest import tiny_cfg

EPOCHS = 2


@pytest.fixture(scope="module")
def run(tiny_dataset, tmp_path_factory):
    """Train 2 epochs (validating after each, TensorBoard on), then evaluate on the test split."""
    from slowfast_custom.engine.trainer import test, train

    out = tmp_path_factory.mktemp("run")
    cfg = tiny_cfg(tiny_dataset, out, "SOLVER.MAX_EPOCH", str(EPOCHS), "TRAIN.EVAL_PERIOD", "1",
                   "TENSORBOARD.ENABLE", "True")
    train(cfg)
    report_after_training = (out / "report.md").read_text()
    test(cfg)
    return out, cfg, report_after_training


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def matched_detections(detections_csv, groundtruth_csv):
    """Per class: [(score, hit)] and the number of ground-truth boxes, matched independently of upstream's code
    the way PASCAL VOC does: best score first, to the ground-truth box of highest IoU, hit if >= 0.5 and free."""
    dets = defaultdict(list)
    for line in detections_csv.read_text().splitlines():
        video, second, x1, y1, x2, y2, action, score = line.split(",")
        dets[(video, int(second), int(action))].append((float(score), tuple(map(float, (x1, y1, x2, y2)))))
    gt = defaultdict(list)
    seconds = {(video, second) for video, second, _ in dets}
    for row in read_box_csv(groundtruth_csv, "gt"):
        if (row.video_id, row.second) in seconds:
            gt[(row.video_id, row.second, row.action_id)].append(row.box)
    matches, support = defaultdict(list), defaultdict(int)
    for (_, _, action), boxes in gt.items():
        support[action] += len(boxes)
    for (video, second, action), found in dets.items():
        boxes, used = gt.get((video, second, action), []), set()
        for score, box in sorted(found, key=lambda d: -d[0]):
            overlaps = [iou(box, b) for b in boxes]
            best = int(np.argmax(overlaps)) if overlaps else -1
            hit = best >= 0 and overlaps[best] >= 0.5 and best not in used
            used.add(best) if hit else None
            matches[action].append((score, hit))
    return matches, support


def test_thresholds_json_holds_the_best_f1_cut_of_the_last_validation(run, tiny_dataset):
    out, _, _ = run
    data = json.loads((out / "checkpoints" / "thresholds.json").read_text())
    tag = f"val_epoch_{EPOCHS:05d}"
    assert data["evaluation"] == tag
    metrics = json.loads((out / "eval" / f"{tag}_metrics.json").read_text())
    matches, support = matched_detections(out / "eval" / f"{tag}_detections.csv",
                                          tiny_dataset / "annotations" / "ava_val_v2.2.csv")
    by_name = {c["name"]: c for c in data["classes"]}
    assert list(by_name) == ["stand", "walk", "jump", "wave"]
    assert by_name["stand"]["support"] == 0 and by_name["stand"]["threshold"] is None  # no val examples
    assert by_name["stand"]["note"] == "no validation examples"
    calibrated = 0
    for record in data["classes"]:
        assert record["support"] == support[record["id"]] == metrics["per_class_support"][record["name"]]
        assert record["ap"] == pytest.approx(metrics["per_class_ap"][record["name"]], abs=1e-6, nan_ok=True) \
            if record["ap"] is not None else metrics["per_class_ap"][record["name"]] is None
        if record["threshold"] is None:
            continue
        calibrated += 1
        # The floor: TRAIN.THRESHOLD_FLOOR (1) x the class's share of the person boxes.
        assert record["prevalence"] == pytest.approx(record["support"] / metrics["num_gt_boxes"], abs=1e-6)
        assert record["floor"] == pytest.approx(record["prevalence"], abs=1e-6)
        assert record["threshold"] >= record["floor"] - 1e-6
        # F1 of every cut at or above the floor, from the CSV's 4-digit scores: the recorded cut is the best,
        # and has the recorded F1.
        scores = np.array([s for s, _ in matches[record["id"]]])
        hits = np.array([h for _, h in matches[record["id"]]])

        def f1(cut, scores=scores, hits=hits, support=record["support"]):
            kept = scores >= cut - 5e-5
            return 2 * hits[kept].sum() / (kept.sum() + support)

        allowed = [s for s in scores if s >= record["floor"] - 5e-5]
        if not any(f1(s) for s in allowed):  # no hit at or above the floor: the floor is the threshold
            assert record["threshold"] == pytest.approx(record["floor"], abs=1e-6) and record["f1"] == 0
            continue
        assert f1(record["threshold"]) == pytest.approx(record["f1"], abs=1e-6)
        assert max(f1(s) for s in allowed) == pytest.approx(record["f1"], abs=1e-6)
        assert record["threshold"] == pytest.approx(scores[np.abs(scores - record["threshold"]).argmin()], abs=5e-5)
        chance = 2 * record["prevalence"] / (1 + record["prevalence"])
        assert ("no better than chance" in record["note"]) == (record["f1"] <= chance + 1e-6)
    assert calibrated == 3


def test_demo_in_calibrated_mode_shows_what_the_thresholds_say(run, tiny_dataset, caplog):
    from slowfast_custom.demo.results import output_paths
    from slowfast_custom.demo.runner import run_demo
    from slowfast_custom.demo.video_io import encode_images

    out, _, _ = run
    video = out / "demo" / "synth_val_000.mp4"
    encode_images(sorted((tiny_dataset / "frames" / "synth_val_000").glob("*.jpg")), video, 30)
    output = out / "demo" / "calibrated.mp4"
    cfg = tiny_cfg(tiny_dataset, out, "TRAIN.ENABLE", "False", "DEMO.ENABLE", "True", "DEMO.INPUT_VIDEO", str(video),
                   "DEMO.OUTPUT_FILE", str(output), "DEMO.LABEL_FILE_PATH",
                   str(tiny_dataset / "annotations" / "ava.json"), "DEMO.PREDS_BOXES",
                   str(tiny_dataset / "annotations" / "ava_val_predicted_boxes.csv"), "DEMO.STARTING_SECOND", "0",
                   "DEMO.VIS_MODE", "calibrated", "DEMO.TOPK", "4")
    with caplog.at_level(logging.INFO):
        run_demo(cfg)  # DEMO.THRESHOLDS_FILE empty: the file next to the checkpoint the demo loads
    # the thresholds of the epoch of the checkpoint it loaded (the best validated one)
    from slowfast_custom.engine.thresholds import thresholds_for
    from slowfast_custom.inference import inference_checkpoint

    thresholds_path = thresholds_for(inference_checkpoint(cfg)[0])
    assert thresholds_path.name.startswith("thresholds_epoch_")
    assert f"per-class thresholds from {thresholds_path}; global threshold for stand" in caplog.text
    own = {c["name"]: c["threshold"] for c in json.loads(thresholds_path.read_text())["classes"]}
    # "stand" has none: the global threshold for an uncommon class applies.
    threshold = {name: (t if t is not None else cfg.DEMO.UNCOMMON_CLASS_THRES) for name, t in own.items()}
    records = json.loads(output_paths(output)[1].read_text())["predictions"]
    assert records
    differs = 0
    for record in records:
        clear = {n: s for n, s in record["scores"].items() if abs(s - threshold[n]) > 1e-4}  # 4-digit rounding
        shown = {name for name, _ in record["shown"]}
        assert {n for n, s in clear.items() if s >= threshold[n]} == shown & set(clear), record
        global_thres = {n: cfg.DEMO.COMMON_CLASS_THRES if n in cfg.DEMO.COMMON_CLASS_NAMES
                        else cfg.DEMO.UNCOMMON_CLASS_THRES for n in clear}
        differs += {n for n, s in clear.items() if s >= global_thres[n]} != shown & set(clear)
    assert differs, "the calibrated thresholds changed nothing: the test would not notice them being ignored"


def test_tensorboard_events_hold_the_runs_numbers(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, cfg, _ = run
    events = list((out / "runs-customava").glob("events.out.tfevents.*"))
    assert events, "no event file under OUTPUT_DIR/runs-<dataset>"
    acc = EventAccumulator(str(out / "runs-customava"), size_guidance={"scalars": 0})
    acc.Reload()
    epochs = json.loads((out / "train_curves.json").read_text())["epochs"]
    assert [r["epoch"] for r in epochs] == list(range(1, EPOCHS + 1))
    iters = epochs[0]["step"]
    losses = acc.Scalars("Train/loss")
    assert [e.step for e in losses] == list(range(1, EPOCHS * iters + 1))  # steps: iterations done
    for record in epochs:
        in_epoch = [e.value for e in losses if (record["epoch"] - 1) * iters < e.step <= record["epoch"] * iters]
        assert np.mean(in_epoch) == pytest.approx(record["loss"], rel=1e-5)
        assert [e.value for e in acc.Scalars("Train/lr") if e.step == record["step"]] == \
            [pytest.approx(record["lr"], rel=1e-6)]
        at_end = {tag: [e.value for e in acc.Scalars(tag) if e.step == record["step"]]
                  for tag in ("Train/epoch_loss", "Train/data_wait_share", "Val/mAP")}
        assert at_end["Train/epoch_loss"] == [pytest.approx(record["loss"], rel=1e-6)]
        assert 0 < at_end["Train/data_wait_share"][0] < 1
        metrics = json.loads((out / "eval" / f"val_epoch_{record['epoch']:05d}_metrics.json").read_text())
        assert at_end["Val/mAP"] == [pytest.approx(metrics["frame_map"], rel=1e-6)]
        for name, ap in metrics["per_class_ap"].items():
            logged = [e.value for e in acc.Scalars(f"Val/AP/{name}")] if ap is not None else []
            assert (logged[record["epoch"] - 1] == pytest.approx(ap, rel=1e-6)) if ap is not None else \
                f"Val/AP/{name}" not in acc.Tags()["scalars"]


def test_report_links_valid_pngs_and_states_the_runs_numbers(run):
    out, _, after_training = run
    report = (out / "report.md").read_text()
    links = ["report/loss.png", "report/val_map.png", "report/per_class_ap.png"]
    for link in links:
        assert f"]({link})" in report and f"]({link})" in after_training
        png = (out / link).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        import matplotlib.image

        assert matplotlib.image.imread(out / link).shape[0] > 100
    last_val = json.loads((out / "eval" / f"val_epoch_{EPOCHS:05d}_metrics.json").read_text())
    test_metrics = json.loads((out / "eval" / "test_metrics.json").read_text())
    last_loss = json.loads((out / "train_curves.json").read_text())["epochs"][-1]["loss"]
    assert f"validation frame-mAP@0.5: {last_val['frame_map']:.4f} at epoch {EPOCHS}" in report
    assert f"last epoch's mean loss {last_loss:.4f}" in report
    assert f"test frame-mAP@0.5: {test_metrics['frame_map']:.4f}" in report  # rewritten after the evaluation
    assert "test frame-mAP" not in after_training and "| AP test |" not in after_training
    assert (f"| walk | {last_val['per_class_ap']['walk']:.4f} | {last_val['per_class_chance']['walk']:.4f} | "
            f"{test_metrics['per_class_ap']['walk']:.4f} | {test_metrics['per_class_chance']['walk']:.4f} |") in report
    assert not list(out.rglob(".*.tmp"))
