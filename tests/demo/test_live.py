"""The demo on live input: a stream served on 127.0.0.1 by the set-up's ffmpeg, read at the stream's pace."""

import contextlib
import json
import logging
import socket
import time

import pytest
import torch

from slowfast_custom.demo.live import LatencyBudget, LiveSource, is_stream_url
from slowfast_custom.demo.predictor import ActionPredictor
from slowfast_custom.demo.runner import run_demo
from slowfast_custom.errors import UserError
from slowfast_custom.video.frames import probe

import streams
from demo_fixtures import VIDEO_ID, decode, demo_setup  # noqa: F401  (fixture)
from streams import free_port, send

pytestmark = pytest.mark.slow

FRAMES = 120  # the fixture video: 4 s at 30 fps


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The model on one thread: beside ffmpeg and the reader on a busy 2-core machine, two OpenMP threads wait
    on each other (a tiny model's pass measured 0.1 s on one thread and 0.3-13 s on two), and these tests are
    about the demo's pacing, not about that."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@contextlib.contextmanager
def http_stream(video):
    """``video`` served once over HTTP on 127.0.0.1; the URL's name is the video id of DEMO.PREDS_BOXES' rows."""
    with streams.http_stream(video, VIDEO_ID) as url:
        yield url


def live_cfg(demo_setup, url, output, *extra):
    return demo_setup.cfg(output, "DEMO.INPUT_VIDEO", url, "DEMO.VIS_MODE", "top-k", "DEMO.TOPK", "1",
                          "DEMO.STREAM_TIMEOUT", "5", *extra)


def lookahead(cfg) -> float:
    """Seconds from a keyframe to the last frame of its clip: no prediction can be shown sooner."""
    return cfg.DATA.NUM_FRAMES * cfg.DATA.SAMPLING_RATE / cfg.DATA.TARGET_FPS / 2


def test_stream_urls_and_cameras_are_live_sources():
    assert is_stream_url("rtsp://cam.local/lobby") and is_stream_url("UDP://127.0.0.1:5000")
    assert not is_stream_url("/videos/a.mp4") and not is_stream_url("file://a.mp4")


def test_latency_budget_counts_the_work_still_to_do():
    budget = LatencyBudget(max_delay=1.0)
    now = time.perf_counter()
    assert budget.allows(None, "predict")  # a file: never late
    assert budget.allows(now - 0.5, "predict") and not budget.allows(now - 1.5, "predict")
    budget.expected["predict"] = 0.8  # as if predictions took 0.8 s: a 0.5 s old frame can no longer make it
    assert not budget.allows(now - 0.5, "predict") and budget.allows(now - 0.1, "predict")
    with budget.timing("people"):
        time.sleep(0.02)
    assert 0.02 <= budget.expected["people"] < 0.5
    assert not budget.allows(time.perf_counter() - 0.1, "people", "predict") or budget.expected["people"] < 0.1


def test_a_missing_camera_or_a_refused_stream_is_one_line(demo_setup, tmp_path):
    with pytest.raises(UserError, match=r"DEMO.WEBCAM 7: no camera /dev/video7 .* set DEMO.WEBCAM -1"):
        run_demo(demo_setup.cfg(tmp_path / "a.mp4", "DEMO.WEBCAM", "7"))
    url = f"http://127.0.0.1:{free_port()}/{VIDEO_ID}.ts"  # nothing listens there
    with pytest.raises(UserError, match=r"cannot open the live source \(Connection refused\)"):
        run_demo(live_cfg(demo_setup, url, tmp_path / "b.mp4"))
    assert not list(tmp_path.iterdir())
    assert LiveSource.from_cfg(live_cfg(demo_setup, url, tmp_path / "b.mp4")).name == VIDEO_ID


def test_http_stream_runs_at_its_pace_with_bounded_latency(demo_setup, tmp_path, caplog):
    output = tmp_path / "live.mp4"
    with http_stream(demo_setup.video) as url, caplog.at_level(logging.INFO):
        cfg = live_cfg(demo_setup, url, output)
        started = time.monotonic()
        summary = run_demo(cfg)
        wall = time.monotonic() - started
    assert wall >= 3.0  # 4 s of video at the sender's pace (-re), not as fast as decoding goes
    # A live source has no end of its own: the sender closing it is said, and the run is not complete (exit 3).
    assert summary.live and summary.ended == "the sender closed the stream after 4.0 s" and not summary.complete
    assert any(r.levelno == logging.WARNING and "the sender closed the stream" in r.getMessage()
               for r in caplog.records)
    # The output video keeps the stream's time: a frame the reader dropped is filled by the next one taken.
    assert summary.frames == FRAMES and summary.seconds == pytest.approx(FRAMES / 30)
    # Latency: from a keyframe decoded to its prediction written, its clip's look-ahead included; bounded by
    # LIVE_MAX_DELAY up to how far one prediction's time strays from the running estimate.
    # (The sender may burst the first half second and the reader's clock starts at decoding, so only the slowest
    # is sure to have waited for most of its clip: 0.42 s of 0.53 on an idle machine.)
    assert summary.latency_s["p50"] <= summary.latency_s["max"] and summary.latency_s["max"] >= lookahead(cfg) / 2
    assert summary.latency_s["max"] < cfg.DEMO.LIVE_MAX_DELAY + 1.0
    assert "keyframes skipped to keep up" in caplog.text and "latency from frame decoded" in caplog.text
    # What was written is complete: the video plays to its last frame, the predictions name the stream.
    assert probe(output).codec == "h264" and len(decode(output)) == summary.frames
    doc = json.loads(summary.json.read_text())
    assert doc["video"] == url and doc["video_id"] == VIDEO_ID and doc["live"]["latency_s"] == summary.latency_s
    predicted = {r["second"] for r in doc["predictions"]}
    assert predicted and predicted <= {1, 2}  # the CSV's people of this video are at seconds 1 and 2
    assert summary.skipped_keyframes == doc["live"]["skipped_keyframes"] < summary.keyframes


def test_predictions_that_cannot_keep_up_are_skipped_not_queued(demo_setup, tmp_path, monkeypatch):
    slow, delay = 1.0, 0.8  # a prediction takes longer than the delay the demo may fall behind (beyond look-ahead)
    original = ActionPredictor.scores

    def slow_scores(self, inputs, boxes):
        time.sleep(slow)
        return original(self, inputs, boxes)

    monkeypatch.setattr(ActionPredictor, "scores", slow_scores)
    output = tmp_path / "late.mp4"
    with http_stream(demo_setup.video) as url:
        cfg = live_cfg(demo_setup, url, output, "DEMO.LIVE_MAX_DELAY", str(delay), "DEMO.VIS_MODE", "top-k")
        summary = run_demo(cfg)
    assert summary.skipped_keyframes >= 1
    assert summary.dropped_frames > 0 and summary.frames == FRAMES  # dropped frames filled: stream time kept
    if summary.latency_s:  # the predictions made were on time: look-ahead, one prediction, the buffer
        assert summary.latency_s["max"] < lookahead(cfg) + slow + 3 * delay + 1.0
    doc = json.loads(summary.json.read_text())
    assert doc["live"]["skipped_keyframes"] == summary.skipped_keyframes
    assert len(decode(output)) == summary.frames


def test_a_stalled_stream_ends_with_what_was_written(demo_setup, tmp_path, caplog):
    """A UDP sender that stops mid-way: after DEMO.STREAM_TIMEOUT the demo finishes and keeps its output."""
    port = free_port(socket.SOCK_DGRAM)
    boxes = tmp_path / "boxes.csv"  # the rows of the video, named as the stream is (no path in the URL: "stream")
    boxes.write_text(demo_setup.preds_boxes.read_text().replace(VIDEO_ID, "stream"))
    output = tmp_path / "stalled.mp4"
    cfg = live_cfg(demo_setup, f"udp://127.0.0.1:{port}", output, "DEMO.PREDS_BOXES", str(boxes),
                   "DEMO.STREAM_TIMEOUT", "2")
    sender = send(demo_setup.video, f"udp://127.0.0.1:{port}?pkt_size=1316", "-t", "2.5")
    try:
        with caplog.at_level(logging.INFO):
            summary = run_demo(cfg)
    finally:
        sender.kill()
        sender.wait()
    assert summary.ended == "the stream was lost (nothing received for 2 s, DEMO.STREAM_TIMEOUT)"
    assert any(r.levelno == logging.WARNING and "the stream was lost" in r.getMessage() and "output kept"
               in r.getMessage() for r in caplog.records)
    assert 0 < summary.frames <= 2.5 * 30 and len(decode(output)) == summary.frames
    assert json.loads(summary.json.read_text())["frames"] == summary.frames


def test_a_delay_no_prediction_could_meet_is_one_line_before_anything_opens(demo_setup, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/{VIDEO_ID}.ts"  # nothing listens: the check comes before opening it
    cfg = live_cfg(demo_setup, url, tmp_path / "never.mp4", "DEMO.LIVE_MAX_DELAY", "0.3")
    with pytest.raises(UserError, match=r"DEMO.LIVE_MAX_DELAY 0.3 s is not longer than the clip's look-ahead, "
                                        r"0.53 s"):
        run_demo(cfg)
    assert not list(tmp_path.iterdir())


def test_max_seconds_is_a_planned_end(demo_setup, tmp_path):
    output = tmp_path / "part.mp4"
    with http_stream(demo_setup.video) as url:
        summary = run_demo(live_cfg(demo_setup, url, output, "DEMO.MAX_SECONDS", "1"))
    assert summary.ended == "DEMO.MAX_SECONDS 1 reached" and summary.complete
    assert summary.frames == len(decode(output)) == 30
