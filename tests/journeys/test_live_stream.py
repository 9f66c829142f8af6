"""Journey: the demo on a live stream, as the README's command runs it: a real video sent at its own pace over
HTTP from 127.0.0.1 by ffmpeg, read by tools/run_net.py, ending with a video and predictions whose seconds,
frame count and frame rate agree with what was sent."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import pytest

from conftest import TINY_CFG, run_tool, untrained_checkpoint
from journey_videos import make_clip
from streams import http_stream

pytestmark = [pytest.mark.journey, pytest.mark.slow]

SECONDS, FPS = 5, 25
STREAM = "lobby"  # the URL's file name: the video id of the predictions


def served_over_http(video):
    """``video`` sent once at its own pace (-re) as MPEG-TS by ``ffmpeg -listen 1``; yields the URL."""
    return http_stream(video, STREAM, gop=FPS // 2)


def test_a_stream_becomes_a_video_and_predictions_that_agree(tiny_dataset, tmp_path):
    train_dir = tmp_path / "train"
    untrained_checkpoint(tiny_dataset, train_dir)  # the journey checks mechanics, not skill
    video = make_clip(tmp_path / "lobby.mp4", 20, SECONDS, 640, 360, Fraction(FPS), crop=(100, 110, 640, 360))
    output = tmp_path / "live" / "lobby_demo.mp4"
    with served_over_http(video) as url:
        ok = run_tool("run_net.py", "--cfg", TINY_CFG, "DATA.PATH_TO_DATA_DIR", tiny_dataset,
                      "OUTPUT_DIR", train_dir, "DEMO.ENABLE", "True", "DEMO.INPUT_VIDEO", url,
                      "DEMO.OUTPUT_FILE", output, "DEMO.LABEL_FILE_PATH", tiny_dataset / "annotations" / "ava.json",
                      "DEMO.DETECTOR", "hog", "DEMO.STREAM_TIMEOUT", "10",
                      env={"OMP_NUM_THREADS": "1"})  # beside ffmpeg on 2 cores (see tests/demo/test_live.py)
    # The sender closing the stream is an early end for a live source: outputs kept, exit 3, said in one warning.
    assert ok.returncode == 3, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert "the sender closed the stream after" in ok.stdout + ok.stderr and "Traceback" not in ok.stderr
    doc = json.loads(output.with_name(output.stem + "_predictions.json").read_text())
    with av.open(str(output)) as container:
        rate = float(container.streams.video[0].average_rate)
        written = sum(1 for _ in container.decode(video=0))
    assert doc["video_id"] == STREAM and doc["live"]
    assert abs(rate - FPS) < 0.01  # the stream's rate, not a default
    assert written == doc["frames"]
    # Every frame sent is in the video (a dropped frame repeats the last one shown), so the video's time is the
    # stream's time, and the predictions' seconds (the stream's own time, from 0) fall inside it.
    assert abs(written - SECONDS * FPS) <= 1, (written, doc.get("dropped_frames"))
    assert doc["predictions"], "HOG found no one in the stream"
    for record in doc["predictions"]:
        assert 0 <= record["second"] <= written / rate and 0 <= record["frame"] < written, record
