"""The clip scheduler: keyframes every stride, clips centred on them, frames held until their prediction."""

import itertools

import numpy as np
import pytest

from slowfast_custom.demo.clips import ClipScheduler


def stream(fps, seconds, stride=1.0, num_frames=8, sampling_rate=4, target_fps=30):
    """Push a video of ``seconds`` at ``fps``; return {keyframe index: clip indices} and the written frames."""
    step = sampling_rate * fps / target_fps
    scheduler = ClipScheduler((k * stride for k in itertools.count()), num_frames, step, fps)
    clips, written = {}, []

    def drain():
        for keyframe, frames in scheduler.ready():
            clips[keyframe.index] = [int(f[0, 0]) for f in frames]  # each scaled frame carries its index
            keyframe.scores = np.zeros((0, 4))
        for image, _time, keyframe in scheduler.writable():
            written.append((int(image[0, 0]), keyframe.index if keyframe else None))

    for i in range(int(seconds * fps)):
        tag = np.full((1, 1), i, np.int64)
        scheduler.push(i, i / fps, tag, tag)
        drain()
    scheduler.finish()
    drain()
    return clips, written


@pytest.mark.parametrize("fps", [10, 30, 60])
def test_clips_span_the_same_seconds_at_any_frame_rate(fps):
    clips, _ = stream(fps, 4)
    assert sorted(clips) == [0, fps, 2 * fps, 3 * fps]  # one keyframe per second
    clip = clips[2 * fps]
    span = (clip[-1] - clip[0]) / fps
    assert span == pytest.approx(7 * 4 / 30, abs=1 / fps)  # 8 frames 4 apart at 30 fps
    # Centred on its keyframe, as upstream's get_sequence (which starts half a clip before it).
    assert clip[0] == pytest.approx(2 * fps - 8 * 4 * fps / 30 / 2, abs=1)


def test_frames_are_written_in_order_with_the_latest_keyframe():
    clips, written = stream(30, 3)
    assert [i for i, _ in written] == list(range(90))
    assert all(k == 30 * (i // 30) for i, k in written)  # each prediction held until the next


def test_clips_at_the_ends_repeat_the_first_and_last_frames():
    clips, _ = stream(30, 2.2)  # 66 frames; the clip of frame 60 reaches frame 72
    assert clips[0][:3] == [0, 0, 0]
    assert clips[60][-3:] == [64, 65, 65] and len(clips[60]) == 8


def test_a_stride_shorter_than_a_frame_gives_one_keyframe_per_frame():
    clips, written = stream(10, 1, stride=0.01)
    assert sorted(clips) == list(range(10))


def test_frames_before_the_first_keyframe_show_nothing():
    step = 4
    scheduler = ClipScheduler(iter([0.5]), 8, step, 10)
    tag = np.zeros((1, 1))
    assert scheduler.push(0, 0.0, tag, tag) is None
    assert [kf for _, _, kf in scheduler.writable()] == [None]
    assert scheduler.push(1, 0.1, tag, tag) is None
    keyframe = next(kf for i in range(2, 7) if (kf := scheduler.push(i, i / 10, tag, tag)))
    assert keyframe.index == 5 and keyframe.moment == 0.5


def test_memory_is_bounded_by_the_clip_span():
    step = 4
    scheduler = ClipScheduler((k * 1.0 for k in itertools.count()), 8, step, 30)
    for i in range(600):
        tag = np.zeros((1, 1))
        scheduler.push(i, i / 30, tag, tag)
        for keyframe, _ in scheduler.ready():
            keyframe.scores = np.zeros((0, 4))
        list(scheduler.writable())
        assert len(scheduler._scaled) <= 8 * step + 2 and scheduler.held_frames <= 8 * step // 2 + 2


def test_frames_wait_for_what_else_they_show():
    """``writable(until)``: a predicted frame is held until the time up to which its boxes are known."""
    scheduler = ClipScheduler(iter([0.0]), 2, 1.0, 10.0)
    for i in range(5):
        tag = np.full((1, 1), i, np.int64)
        scheduler.push(i, i / 10, tag, tag)
    scheduler.finish()
    (keyframe, _), = scheduler.ready()
    keyframe.scores = np.zeros((0, 4))
    assert [t for _, t, _ in scheduler.writable(until=0.2)] == [0.0, 0.1, 0.2]
    assert [t for _, t, _ in scheduler.writable()] == [0.3, 0.4]
