"""The measure of docs/annotate.md: user actions to label the tracks of ../shared/data/vtest.avi fully, by track
span (run in the browser, with and without the page going on to the next unlabelled track by itself) against
box by box (counted as ``label_box_by_box`` counts; the small-dataset browser test checks that count against a
real box-by-box session).

It extracts the frames and runs the HOG detector and the tracker over the 80 s video first (minutes on a
2-core CPU), so it runs only when asked: ``ANNOTATE_MEASURE=1``, or ``ANNOTATE_MEASURE=DIR`` to reuse a folder
where ``tools/extract_frames.py`` and ``tools/detect_and_track.py`` already ran on vtest.avi.
"""

import os
import random
import shutil
from pathlib import Path

import pytest

from slowfast_custom.annotate.project import PROJECT_NAME, Project
from slowfast_custom.annotate.workflow import TRACKS_NAME

from annotate_page import (  # noqa: F401  (browser: a fixture)
    AppServer,
    Labeller,
    box_by_box_count,
    browser,
    count_runs,
    label_by_track,
    open_page,
    track_span_count,
    tracks_of,
)
from conftest import run_tool, shared_file

# The scripted person: every tracked person does one pose action at a time and changes it every few seconds.
POSES = ["stand", "walk", "run", "bend/bow (at the waist)"]
RUN_SECONDS = (4, 8)  # shortest and longest run of one action
MIN_RATIO = 5


def action_plan(tracks, seed=0):
    """``{(video, person, second): action id}``: per track, runs of RUN_SECONDS seconds of one pose."""
    rng = random.Random(seed)
    plan = {}
    for video, people in tracks.items():
        for person, seconds in people.items():
            action, until = rng.randrange(len(POSES)) + 1, seconds[0] + rng.randint(*RUN_SECONDS)
            for second in seconds:
                if second >= until:
                    action = rng.choice([a for a in range(1, len(POSES) + 1) if a != action])
                    until = second + rng.randint(*RUN_SECONDS)
                plan[(video, person, second)] = action
    return plan


def tracked_vtest(tmp_path) -> Path:
    """A folder with vtest.avi's frames and tracks: made here, or the one ANNOTATE_MEASURE names."""
    given = os.environ.get("ANNOTATE_MEASURE", "")
    if given and given != "1":
        return Path(given)
    video = shared_file("data", "vtest.avi")
    data = tmp_path / "tracked"
    for tool, *args in (("extract_frames.py", video, "--out", data, "--workers", "1"),
                        ("detect_and_track.py", "--data", data)):
        result = run_tool(tool, *args, timeout=3600)
        assert result.returncode == 0, result.stderr[-2000:]
    return data


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ANNOTATE_MEASURE"), reason="the measure runs the detector over vtest.avi "
                    "(minutes): set ANNOTATE_MEASURE=1 (see docs/annotate.md)")
def test_track_spans_need_five_times_fewer_actions_on_vtest(browser, tmp_path):
    source = tracked_vtest(tmp_path)
    actions = tmp_path / "actions.pbtxt"
    actions.write_text("".join(f'label {{ name: "{name}" label_id: {i} label_type: PERSON_MOVEMENT }}\n'
                               for i, name in enumerate(POSES, start=1)))
    keys = {a: str(a) for a in range(1, len(POSES) + 1)}
    counts = {}
    for auto_next in (False, True):
        data = tmp_path / f"session_{auto_next}"  # a new project on the same frames and tracks
        (data / TRACKS_NAME).parent.mkdir(parents=True)
        (data / "frames").symlink_to((source / "frames").resolve(), target_is_directory=True)
        shutil.copyfile(source / TRACKS_NAME, data / TRACKS_NAME)
        app = AppServer(data, tmp_path / "server.log", ["--actions", str(actions)]).start()
        try:
            tracks = tracks_of(Project.load(data / PROJECT_NAME).boxes.values())
            plan = action_plan(tracks)
            lab = Labeller(open_page(browser, app.url))
            label_by_track(lab, tracks, plan, keys, auto_next)
            assert lab.page.errors == []
        finally:
            app.kill()
        labelled = Project.load(data / PROJECT_NAME)
        assert {(b.video, b.person, b.second): b.actions for b in labelled.boxes.values()} == {
            k: (a,) for k, a in plan.items()}
        assert lab.actions == track_span_count(tracks, plan, auto_next)
        counts[auto_next] = lab.actions

    by_box = box_by_box_count(tracks, labelled.videos)
    print(f"\nvtest.avi: {len(labelled.boxes)} boxes in {sum(len(p) for p in tracks.values())} tracks, "
          f"{count_runs(tracks, plan)} runs of one action. User actions (clicks + keys): box by box {by_box}; "
          f"by track span {counts[False]} ({by_box / counts[False]:.1f}x fewer), going on to the next "
          f"unlabelled track by itself {counts[True]} ({by_box / counts[True]:.1f}x fewer)")
    assert by_box >= MIN_RATIO * counts[True]
