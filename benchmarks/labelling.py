"""The measure of docs/labelling.md: user actions (clicks + keys) to label every track of a video in the labelling
app, each way of labelling against box by box, on two sets of data.

Random plans (no model can know them): the frames and tracks are those of
``tools/extract_frames.py`` and ``tools/detect_and_track.py`` with their
defaults (run as the commands a user runs, so the measure follows their
defaults). A scripted person gives every tracked person one pose action at a
time, changing it every ``RUN_SECONDS`` seconds, and labels everything in a
headless Chromium by track span (``SESSIONS``): selecting each run's first
cell; with the page going on to the next unlabelled track by itself (``a``);
and with a change of action inside a track as one click on the action's lane.

Model suggestions (where a model can know the answer): synthetic videos
(``tools/make_synthetic.py``); the tiny config trained on its train videos
(``tools/run_net.py``, cached); its val videos labelled with their true
actions on their true boxes, by the same sessions and by accepting the
model's suggestions (``tools/annotate.py --model``) and correcting them.

Box by box is counted as ``label_box_by_box`` counts (the browser tests check
that count against a real session). These are counts, not timings: the same
plan gives the same figures on any machine.
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from benchmarks.browser import (
    REPO,
    AppServer,
    Labeller,
    Plan,
    Suggestions,
    Tracks,
    box_by_box_count,
    count_runs,
    label_by_track,
    label_with_suggestions,
    launch_browser,
    open_page,
    suggestions_count,
    track_span_count,
    tracks_of,
)
from benchmarks.record import host_line, plain_table, run_header
from slowfast_custom.ava.formats import BoxRow, read_box_csv, write_tracks_csv
from slowfast_custom.ava.layout import DEFAULT_FPS
from slowfast_custom.ava.naming import video_dirs
from slowfast_custom.checkpoint import last_checkpoint
from slowfast_custom.data.synthetic import ACTIONS as SYNTHETIC_ACTIONS
from slowfast_custom.errors import UserError
from slowfast_custom.labelling.app.project import PROJECT_NAME, Project
from slowfast_custom.labelling.app.workflow import TRACKS_NAME, read_suggestions
from slowfast_custom.resources import config_dir

logger = logging.getLogger(__name__)

# The scripted person: every tracked person does one pose action at a time and changes it every few seconds.
POSES = ["stand", "walk", "run", "bend/bow (at the waist)"]
RUN_SECONDS = (4, 8)  # shortest and longest run of one action
BOX_BY_BOX = "box by box"
# name -> (the page's auto-advance, later runs of a track on the action lanes)
SESSIONS = {"by track span": (False, False), "by track span, auto-advance": (True, False),
            "+ action lanes": (True, True)}
SUGGESTED = "+ model suggestions"
MODEL_CFG = config_dir() / "SLOWFAST_8x4_R50_tiny_synthetic_cpu.yaml"


@dataclass(frozen=True)
class SyntheticSpec:
    """The synthetic part: videos to train on and to label, and the training's epochs."""

    train_videos: int = 40
    val_videos: int = 8
    epochs: int = 10


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


def default_synthetic_dir(spec: SyntheticSpec) -> Path:
    """Where the synthetic videos and the model of ``spec`` are made and reused by default (one folder per spec:
    a model is never reused for other data)."""
    return Path("datasets") / "benchmark_labelling" / f"synthetic_{spec.train_videos}_{spec.val_videos}_{spec.epochs}e"


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


def _dataset(source: Path, work: Path, name: str, videos: Sequence[str], tracks: Path,
             poses: Sequence[str]) -> Path:
    """A new dataset folder for one session: the source's frames of ``videos`` (linked), the tracks, the actions."""
    data = work / name
    (data / TRACKS_NAME).parent.mkdir(parents=True)
    (data / "frames").mkdir()
    for video in videos:
        (data / "frames" / video).symlink_to((source / "frames" / video).resolve(), target_is_directory=True)
    shutil.copyfile(tracks, data / TRACKS_NAME)
    (data / "actions.pbtxt").write_text("".join(
        f'label {{ name: "{name}" label_id: {i} label_type: PERSON_MOVEMENT }}\n'
        for i, name in enumerate(poses, start=1)))
    return data


def label_session(browser, data: Path, log: Path, session: str, plan_of, model: Optional[Tuple[Path, Path]] = None,
                  keys: Optional[Dict[int, str]] = None):
    """Label the dataset ``data`` (made by ``_dataset``) in a new project with one ``session`` (a ``SESSIONS``
    name or ``SUGGESTED``); ``plan_of(tracks)`` gives the true actions. (user actions, expected count, tracks,
    plan, project, suggestions)."""
    args = ["--actions", str(data / "actions.pbtxt")] + (["--model", *map(str, model)] if model else [])
    app = AppServer(data, log, args).start(timeout=1800)  # with --model, the suggestions come first
    try:
        tracks = tracks_of(Project.load(data / PROJECT_NAME).boxes.values())
        if not tracks:
            raise UserError(f"{data / TRACKS_NAME}: no tracked person on a keyframe; measure a longer stretch "
                            "of video (--seconds)")
        plan = plan_of(tracks)
        keys = keys or {a: str(a) for a in sorted(set(plan.values()))}
        labeller = Labeller(open_page(browser, app.url))
        suggestions: Suggestions = {}
        if session == SUGGESTED:
            by_uid = read_suggestions(data)
            suggestions = {(b.video, b.person, b.second): by_uid[b.uid]
                           for b in Project.load(data / PROJECT_NAME).boxes.values() if b.uid in by_uid}
            label_with_suggestions(labeller, tracks, plan, suggestions)
            expected = suggestions_count(tracks, plan, suggestions)
        else:
            auto_next, lanes = SESSIONS[session]
            label_by_track(labeller, tracks, plan, keys, auto_next, lanes)
            expected = track_span_count(tracks, plan, auto_next, lanes)
        labeller.settle()
        if labeller.page.errors:
            raise RuntimeError(f"the page reported script errors: {labeller.page.errors}")
    except UserError:
        raise
    except Exception as err:
        raise RuntimeError(f"labelling failed ({err}); the server's log ends:\n{app.log_tail()}") from err
    finally:
        app.kill()
    return labeller.actions, expected, tracks, plan, Project.load(data / PROJECT_NAME), suggestions


def _check(name: str, counted: int, expected: int, plan: Plan, project: Project) -> float:
    """Fail unless the session's labels equal the plan and its count the predicted one; the share equal (1.0)."""
    labelled = {(b.video, b.person, b.second): b.actions for b in project.boxes.values()}
    planned = {k: (a,) for k, a in plan.items()}
    if labelled != planned:
        wrong = sorted(k for k in labelled.keys() | planned.keys() if labelled.get(k) != planned.get(k))
        raise RuntimeError(f"{name}: the labelled project differs from the plan at {len(wrong)} boxes "
                           f"(video, person, second), first {wrong[:3]}")
    if counted != expected:
        raise RuntimeError(f"{name}: {counted} user actions counted in the browser, but the scripted session's "
                           f"count function gives {expected}")
    return sum(labelled[k] == planned[k] for k in planned) / len(planned)


def _summary(tracks: Tracks, plan: Plan, project: Project, counts: Dict[str, int],
             equal: Dict[str, float]) -> Dict[str, object]:
    by_box = box_by_box_count(tracks, project.videos)
    actions = {BOX_BY_BOX: by_box, **counts}
    return {
        "boxes": len(plan),
        "keyframes": sum(len(project.videos[v]) for v in tracks),
        "tracks": sum(len(people) for people in tracks.values()),
        "single_box_tracks": sum(len(s) == 1 for people in tracks.values() for s in people.values()),
        "runs": count_runs(tracks, plan),
        "actions": actions,
        "fewer_than_box_by_box": {name: round(by_box / count, 2) for name, count in counts.items()},
        "labels_equal_truth": equal,
    }


def measure_random_plans(browser, video: Path, data_dir: Path, work: Path, seconds: Optional[float], seed: int,
                         threads: int) -> Dict[str, object]:
    """Every ``SESSIONS`` way on the tracks of ``video`` with the random plan of ``seed``."""
    data = prepare_tracks(video, data_dir, seconds, threads)
    counts, equal = {}, {}
    for number, name in enumerate(SESSIONS):
        logger.info("Random plans: labelling %s in the browser", name)
        folder = _dataset(data_dir, work, f"random_{number}", [video.stem], data_dir / TRACKS_NAME, POSES)
        counts[name], expected, tracks, plan, project, _ = label_session(
            browser, folder, work / f"random_{number}.log", name, lambda t: action_plan(t, seed))
        equal[name] = _check(name, counts[name], expected, plan, project)
    return {"data": data, **_summary(tracks, plan, project, counts, equal)}


def synthetic_model(root: Path, spec: SyntheticSpec, train: bool = True) -> Tuple[Path, Optional[Path], bool]:
    """(dataset, checkpoint, made now): synthetic videos in ``root``/data and (``train``) the tiny config trained
    on their train videos in ``root``/model, both made by the tools unless there."""
    data, out = root / "data", root / "model"
    _run_tool("make_synthetic.py", "--out", data, "--train-videos", spec.train_videos, "--val-videos",
              spec.val_videos, "--skip-existing")
    if not train:
        return data, None, False
    made = last_checkpoint(str(out)) is None
    if made:
        _run_tool("run_net.py", "--cfg", MODEL_CFG, "DATA.PATH_TO_DATA_DIR", data, "OUTPUT_DIR", out,
                  "SOLVER.MAX_EPOCH", spec.epochs, "TEST.ENABLE", False)
    return data, last_checkpoint(str(out)), made


def measure_suggestions(browser, root: Path, work: Path, spec: SyntheticSpec,
                        model: Optional[Tuple[Path, Path]]) -> Dict[str, object]:
    """The sessions and the model's suggestions on the synthetic val videos, with their true boxes and actions."""
    data, checkpoint, made = synthetic_model(root, spec, train=model is None)
    model = model or (MODEL_CFG, checkpoint)
    truth = read_box_csv(data / "annotations" / "ava_val_v2.2.csv", "gt")
    true_action = {(r.video_id, r.person_id, r.second): r.action_id for r in truth}
    rows = {(r.video_id, r.second, r.person_id): BoxRow(r.video_id, r.second, r.box, None, r.person_id, 1.0)
            for r in truth}
    tracks_file = work / "synthetic_tracks.csv"
    write_tracks_csv(tracks_file, [rows[k] for k in sorted(rows)])
    videos = sorted({r.video_id for r in truth})
    counts, equal = {}, {}
    for number, name in enumerate([*SESSIONS, SUGGESTED]):
        logger.info("Synthetic videos: labelling %s in the browser", name)
        folder = _dataset(data, work, f"synthetic_{number}", videos, tracks_file, SYNTHETIC_ACTIONS)
        counts[name], expected, tracks, plan, project, suggestions = label_session(
            browser, folder, work / f"synthetic_{number}.log", name, lambda t: dict(true_action),
            model if name == SUGGESTED else None)
        equal[name] = _check(name, counts[name], expected, plan, project)
    right = [suggestions.get(k) == (a,) for k, a in plan.items()]
    right_tracks = [all(suggestions.get((v, p, s)) == (plan[(v, p, s)],) for s in seconds)
                    for v, people in tracks.items() for p, seconds in people.items()]
    return {"data": {"dir": str(data), "model": [str(m) for m in model], "trained_now": made, **asdict(spec)},
            **_summary(tracks, plan, project, counts, equal),
            "suggestions": {"boxes_right": round(sum(right) / len(right), 4),
                            "tracks_right": round(sum(right_tracks) / len(right_tracks), 4),
                            "actions_saved": counts["by track span, auto-advance"] - counts[SUGGESTED]}}


def measure_labelling(video: Path, data_dir: Path, seconds: Optional[float] = None, seed: int = 0,
                      threads: int = 0, synthetic_dir: Optional[Path] = None,
                      synthetic: SyntheticSpec = SyntheticSpec(),
                      model: Optional[Tuple[Path, Path]] = None) -> Dict[str, object]:
    """The measure of the module doc on ``video`` and (``synthetic_dir`` given) on synthetic videos; the results as
    JSON-ready data. ``model``: (config, checkpoint) to suggest with instead of the one trained in
    ``synthetic_dir``.

    Raises RuntimeError when a session's labels differ from the truth or its
    counted actions from the count its scripted session predicts: the figures
    would not mean what the table says.
    """
    if not video.is_file():
        raise UserError(f"{video}: video not found (the measure labels its tracks; give another with --video)")
    with launch_browser() as browser:  # first: a missing browser is said before minutes of detection
        results: Dict[str, object] = {
            **run_header(),
            "settings": {"video": str(video), "seconds": seconds, "seed": seed, "poses": POSES,
                         "run_seconds": list(RUN_SECONDS)},
        }
        with tempfile.TemporaryDirectory(prefix="benchmark_labelling_") as work:
            results["random_plans"] = measure_random_plans(browser, video, data_dir, Path(work), seconds, seed,
                                                           threads)
            if synthetic_dir is not None:
                results["model_suggestions"] = measure_suggestions(browser, synthetic_dir, Path(work), synthetic,
                                                                   model)
    results["checked"] = ("each session's labels equal the truth; its counted actions equal what its scripted "
                          "session predicts (track_span_count, suggestions_count)")
    return results


def format_table(results: Dict) -> str:
    """User actions per way of labelling and their ratio to box by box, on each set of data side by side."""
    parts = [("random_plans", "vtest, random plans"), ("model_suggestions", "synthetic, model")]
    parts = [(key, title, results[key]) for key, title in parts if key in results]
    names = [BOX_BY_BOX, *SESSIONS, SUGGESTED]
    header = ["how"]
    for _, title, _ in parts:
        header += [f"{title}: actions", "fewer", "labels right"]
    rows = [tuple(header)]
    for name in names:
        row = [name]
        for _, _, part in parts:
            count = part["actions"].get(name)
            ratio = "1x" if name == BOX_BY_BOX else (f"{part['fewer_than_box_by_box'][name]:.1f}x" if count else "")
            right = part["labels_equal_truth"].get(name)
            row += [count if count is not None else "-", ratio if count is not None else "",
                    f"{right:.0%}" if right is not None else ("(counted)" if name == BOX_BY_BOX else "")]
        rows.append(tuple(row))
    settings = results["settings"]
    stretch = f"first {settings['seconds']:g} s of " if settings["seconds"] else ""
    lines = [plain_table(rows)]
    for key, title, part in parts:
        where = f"{stretch}{Path(settings['video']).name}" if key == "random_plans" else \
            f"{part['data']['val_videos']} synthetic videos (model trained on {part['data']['train_videos']})"
        lines.append(f"{title}: {where}: {part['boxes']} boxes on {part['keyframes']} keyframes in {part['tracks']} "
                     f"tracks ({part['single_box_tracks']} of one box), {part['runs']} runs of one action")
        if key == "model_suggestions":
            sug = part["suggestions"]
            lines.append(f"  suggestions right: {sug['boxes_right']:.0%} of boxes, {sug['tracks_right']:.0%} of "
                         f"tracks; {sug['actions_saved']} actions saved against auto-advance")
    lines.append(f"seed {settings['seed']}; {host_line(results)}")
    return "\n".join(lines)
