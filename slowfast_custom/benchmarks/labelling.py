"""The measure of docs/annotate.md: user actions (clicks + keys) to label every track of a video in the labelling
app, by track span against box by box.

The frames and tracks are those of ``tools/extract_frames.py`` and
``tools/detect_and_track.py`` with their defaults (run as the commands a user
runs, so the measure follows their defaults). A scripted person gives every
tracked person one pose action at a time, changing it every ``RUN_SECONDS``
seconds, and labels everything in a headless Chromium by track span twice:
selecting each run's first cell, and with the page going on to the next
unlabelled track by itself (``a``). Box by box is counted as
``label_box_by_box`` counts (the browser tests check that count against a real
session). These are counts, not timings: the same plan gives the same figures
on any machine.
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional

from slowfast_custom.labelling.app.project import PROJECT_NAME, Project
from slowfast_custom.benchmarks.browser import (
    REPO,
    AppServer,
    Labeller,
    Plan,
    Tracks,
    box_by_box_count,
    count_runs,
    label_by_track,
    launch_browser,
    open_page,
    track_span_count,
    tracks_of,
)
from slowfast_custom.labelling.app.workflow import TRACKS_NAME
from slowfast_custom.labelling.keyframes import DEFAULT_FPS
from slowfast_custom.benchmarks.record import host_line, plain_table, run_header
from slowfast_custom.data.ava_formats import video_dirs
from slowfast_custom.errors import UserError

logger = logging.getLogger(__name__)

# The scripted person: every tracked person does one pose action at a time and changes it every few seconds.
POSES = ["stand", "walk", "run", "bend/bow (at the waist)"]
RUN_SECONDS = (4, 8)  # shortest and longest run of one action
BOX_BY_BOX = "box by box"
SESSIONS = {"by track span": False, "by track span, auto-advance": True}  # name -> the page's auto-advance


def action_plan(tracks: Tracks, seed: int = 0) -> Plan:
    """``{(video, person, second): action id}``: per track, runs of ``RUN_SECONDS`` seconds of one pose."""
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


def default_data_dir(video: Path, seconds: Optional[float]) -> Path:
    """Where the frames and tracks of ``video`` (or of its first ``seconds``) are made and reused by default."""
    return Path("datasets") / "benchmark_labelling" / (video.stem + (f"_{seconds:g}s" if seconds else ""))


def _run_tool(script: str, *args: object) -> None:
    command = [sys.executable, str(REPO / "tools" / script), *map(str, args)]
    logger.info("%s", " ".join(command[1:]))
    if subprocess.run(command).returncode:  # in this directory: the paths given are relative to it
        raise UserError(f"tools/{script} failed (its message is above); the labelling measure needs its output")


def _frames_seconds(data_dir: Path) -> Dict[str, float]:
    """``{video: seconds of frames}`` of the dataset's frames/ (extracted at the tools' default rate)."""
    frames = data_dir / "frames"
    return {d.name: round(sum(1 for _ in d.glob("*.jpg")) / DEFAULT_FPS, 2)
            for d in map(frames.joinpath, video_dirs(frames))} if frames.is_dir() else {}


def prepare_tracks(video: Path, data_dir: Path, seconds: Optional[float], threads: int = 0) -> Dict[str, object]:
    """Frames and tracks of ``video`` (its first ``seconds``) in ``data_dir``, made by the tools unless its tracks
    file is there already; what the folder holds. ``threads``: detect_and_track.py's ``--threads``."""
    made = not (data_dir / TRACKS_NAME).is_file()
    if made:
        window = ["--end-sec", seconds] if seconds else []
        _run_tool("extract_frames.py", video, "--out", data_dir, *window, "--workers", 1)
        _run_tool("detect_and_track.py", "--data", data_dir, "--threads", threads)
    lengths = _frames_seconds(data_dir)
    if video.stem not in lengths:
        raise UserError(f"{data_dir}/frames has no video {video.stem}: give the --data-dir made from {video}, "
                        "or a new one")
    if seconds and abs(lengths[video.stem] - seconds) > 1:
        raise UserError(f"{data_dir} holds {lengths[video.stem]:g} s of {video.stem}, not the first {seconds:g} s: "
                        "give another --data-dir, or none for the default of these settings")
    return {"dir": str(data_dir), "made_now": made, "video_seconds": lengths}


def label_session(browser, source: Path, work: Path, plan_seed: int, auto_next: bool):
    """Label the tracks of ``source`` in a new project on its frames; (user actions, tracks, plan, project)."""
    data = work / ("auto_advance" if auto_next else "track_span")
    (data / TRACKS_NAME).parent.mkdir(parents=True)
    (data / "frames").symlink_to((source / "frames").resolve(), target_is_directory=True)
    shutil.copyfile(source / TRACKS_NAME, data / TRACKS_NAME)
    actions = data / "actions.pbtxt"
    actions.write_text("".join(f'label {{ name: "{name}" label_id: {i} label_type: PERSON_MOVEMENT }}\n'
                               for i, name in enumerate(POSES, start=1)))
    app = AppServer(data, work / f"{data.name}.log", ["--actions", str(actions)]).start()
    try:
        tracks = tracks_of(Project.load(data / PROJECT_NAME).boxes.values())
        if not tracks:
            raise UserError(f"{source / TRACKS_NAME}: no tracked person on a keyframe; measure a longer stretch "
                            "of video (--seconds)")
        plan = action_plan(tracks, plan_seed)
        labeller = Labeller(open_page(browser, app.url))
        label_by_track(labeller, tracks, plan, {a: str(a) for a in range(1, len(POSES) + 1)}, auto_next)
        if labeller.page.errors:
            raise RuntimeError(f"the page reported script errors: {labeller.page.errors}")
    except UserError:
        raise
    except Exception as err:
        raise RuntimeError(f"labelling failed ({err}); the server's log ends:\n{app.log_tail()}") from err
    finally:
        app.kill()
    return labeller.actions, tracks, plan, Project.load(data / PROJECT_NAME)


def measure_labelling(video: Path, data_dir: Path, seconds: Optional[float] = None, seed: int = 0,
                      threads: int = 0) -> Dict[str, object]:
    """The measure of the module doc on ``video``; the results as JSON-ready data.

    Raises RuntimeError when a session's labels differ from the plan or its
    counted actions from ``track_span_count``: the figures would not mean what
    the table says.
    """
    if not video.is_file():
        raise UserError(f"{video}: video not found (the measure labels its tracks; give another with --video)")
    with launch_browser() as browser:  # first: a missing browser is said before minutes of detection
        results: Dict[str, object] = {
            **run_header(),
            "settings": {"video": str(video), "seconds": seconds, "seed": seed, "poses": POSES,
                         "run_seconds": list(RUN_SECONDS)},
            "data": prepare_tracks(video, data_dir, seconds, threads),
        }
        counts = {}
        with tempfile.TemporaryDirectory(prefix="benchmark_labelling_") as work:
            for name, auto_next in SESSIONS.items():
                logger.info("Labelling %s in the browser", name)
                counts[name], tracks, plan, project = label_session(browser, data_dir, Path(work), seed, auto_next)
                labelled = {(b.video, b.person, b.second): b.actions for b in project.boxes.values()}
                planned = {k: (a,) for k, a in plan.items()}
                if labelled != planned:
                    wrong = sorted(k for k in labelled.keys() | planned.keys() if labelled.get(k) != planned.get(k))
                    raise RuntimeError(f"{name}: the labelled project differs from the plan at {len(wrong)} boxes "
                                       f"(video, person, second), first {wrong[:3]}")
                expected = track_span_count(tracks, plan, auto_next)
                if counts[name] != expected:
                    raise RuntimeError(f"{name}: {counts[name]} user actions counted in the browser, but "
                                       f"track_span_count gives {expected}")
    by_box = box_by_box_count(tracks, project.videos)
    results.update({
        "boxes": len(plan),
        "keyframes": sum(len(seconds) for seconds in project.videos.values()),
        "tracks": sum(len(people) for people in tracks.values()),
        "single_box_tracks": sum(len(s) == 1 for people in tracks.values() for s in people.values()),
        "runs": count_runs(tracks, plan),
        "actions": {BOX_BY_BOX: by_box, **counts},
        "fewer_than_box_by_box": {name: round(by_box / count, 2) for name, count in counts.items()},
        "checked": "each session's labels equal the plan; its counted actions equal track_span_count",
    })
    return results


def format_table(results: Dict) -> str:
    """User actions per way of labelling, the ratio to box by box, then what was labelled."""
    actions, ratios = results["actions"], results["fewer_than_box_by_box"]
    rows = [("how", "user actions", "fewer than box by box")]
    rows.append((f"{BOX_BY_BOX} (counted)", actions[BOX_BY_BOX], "1x"))
    rows.extend((name, actions[name], f"{ratios[name]:.1f}x") for name in SESSIONS)
    settings = results["settings"]
    stretch = f"first {settings['seconds']:g} s of " if settings["seconds"] else ""
    return (f"{plain_table(rows)}\n{stretch}{Path(settings['video']).name}: {results['boxes']} boxes on "
            f"{results['keyframes']} keyframes in {results['tracks']} tracks ({results['single_box_tracks']} of one "
            f"box), {results['runs']} runs of one action (seed {settings['seed']})\n{host_line(results)}")
