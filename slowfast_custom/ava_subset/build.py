"""Build a ready-to-train AVA subset: a few chosen videos, their rows, frames, frame lists and a config.

The output folder (``AVA/``) holds::

    annotations/    AVA's files (same names and sub-folder), only the chosen videos' rows,
                    both label maps copied, and ava.json ({class name: model output index})
    frame_lists/    train.csv, val.csv (upstream's space-separated format)
    frames/         <video>/<video>_%06d.jpg, seconds START..END at FPS (when videos are given)
    videos_15min/   <video>.mp4, the same seconds cut from the original (when videos are given)
    SLOWFAST_32x2_R101_subset.yaml   the recipe config with every path filled in

Annotation files and frame lists are written under temporary names and all
renamed only after every check passed (ids found, frame lists and box files
covering the same videos), so a failed or interrupted run leaves no
half-written file that looks complete. Outputs depend only on the inputs and
the options: two runs give byte-identical annotation files.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Set, Tuple

from slowfast_custom.ava.formats import LabelMapEntry, read_label_map, write_class_names_json, write_frame_list
from slowfast_custom.ava.layout import AVA_END_SEC, AVA_START_SEC, DEFAULT_FPS
from slowfast_custom.ava.naming import frame_list_from_dir
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.filtering import (
    EXCLUSIONS,
    GT_BOXES,
    PREDICTED_BOXES,
    BoxStats,
    RowFormat,
    filter_box_file,
    filter_exclusions,
    filter_frame_list,
)
from slowfast_custom.ava_subset.source import AnnotationSource
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.fileio import atomic_path, atomic_write_text
from slowfast_custom.resources import config_dir
from slowfast_custom.video.extract import collect_videos
from slowfast_custom.video.frames import (
    ExtractJob,
    cut_clip,
    extract_many,
    frame_window,
    parallel_map,
    probe,
    raise_failures,
)

REPO_CONFIG = config_dir() / "SLOWFAST_32x2_R101_custom.yaml"
CONFIG_NAME = "SLOWFAST_32x2_R101_subset.yaml"
# The margins upstream keeps inside AVA's 15-minute cut (annotated seconds 902..1798).
VALID_MARGINS = (2, 3)

SPLITS = ("train", "val")
GT_FILE = {"train": names.TRAIN_GT, "val": names.VAL_GT}
EXCLUSION_FILE = {"train": names.TRAIN_EXCLUSIONS, "val": names.VAL_EXCLUSIONS}
FRAME_LIST_FILE = {"train": names.TRAIN_FRAME_LIST, "val": names.VAL_FRAME_LIST}


# ---------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetSpec:
    annotations: Path  # ava_annotations.tar or its folder
    out: Path  # the dataset folder to write (AVA/)
    train_ids: Tuple[str, ...]
    val_ids: Tuple[str, ...]
    videos: Optional[Path] = None  # folder of original .mp4/.mkv/.webm videos named <id>.<ext>
    start_sec: int = AVA_START_SEC
    end_sec: int = AVA_END_SEC
    fps: int = int(DEFAULT_FPS)
    quality: int = 1  # ffmpeg -q:v of the JPEG frames
    workers: int = 2  # videos processed at a time
    clips: bool = True  # also cut videos_15min/<id>.mp4
    skip_missing: bool = False  # build without requested ids that have no rows (else: error)
    base_config: Path = REPO_CONFIG
    output_dir: Path = Path("output/ava_subset")  # OUTPUT_DIR of the written config


@dataclass
class SplitSummary:
    name: str
    videos: List[str]
    frames: Dict[str, int]
    stats: BoxStats
    missing: List[Tuple[str, List[str]]] = field(default_factory=list)  # (id, closest existing ids)


@dataclass
class SubsetResult:
    out: Path
    splits: Dict[str, SplitSummary]
    action_names: Dict[int, str]
    frame_lists_from: str  # "annotations" or "frames"
    config: Path
    command: str
    extracted: int = 0  # videos whose frames were extracted by this run
    reused: int = 0  # videos whose complete frames were kept
    other_files: List[str] = field(default_factory=list)  # other per-video CSVs of the source, filtered and kept
    unrecognised: List[str] = field(default_factory=list)  # files of the source that were not copied
    detections: str = "recipe"  # the person boxes the config names: "recipe" (AVA's detections) or "lfb"


class _Staging:
    """Output files under temporary names, all renamed when the ``ExitStack`` closes without error."""

    def __init__(self, stack: contextlib.ExitStack, root: Path) -> None:
        self._stack, self._root = stack, root

    def path(self, rel: str) -> Path:
        return self._stack.enter_context(atomic_path(self._root / rel))

    @contextlib.contextmanager
    def open(self, rel: str) -> Iterator[IO[str]]:
        with open(self.path(rel), "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


@contextlib.contextmanager
def _errors_name(where: str) -> Iterator[None]:
    """Report a DataError raised on a staged copy as an error of the input it came from."""
    try:
        yield
    except DataError as err:
        raise DataError(where, err.message, err.line, err.hint) from None


def make_subset(spec: SubsetSpec) -> SubsetResult:
    """Write the subset described by ``spec`` (see the module doc); return what the summary prints."""
    if not spec.start_sec < spec.end_sec:
        raise UserError(f"--start-sec {spec.start_sec} must be before --end-sec {spec.end_sec}")
    if not Path(spec.base_config).is_file():
        raise UserError(f"{spec.base_config}: base config not found (pass --base-config)")
    out = Path(spec.out).resolve()
    with AnnotationSource(spec.annotations) as source:
        _refuse_overwriting_inputs(source, spec, out)
        with contextlib.ExitStack() as stack:
            staged = _Staging(stack, out / "annotations")
            _, full_map = _copy_label_maps(source, staged)
            num_classes = max(e.id for e in full_map)

            splits, seen = {}, {}
            for split, ids in zip(SPLITS, (spec.train_ids, spec.val_ids)):
                with source.open_text(GT_FILE[split]) as lines, staged.open(GT_FILE[split]) as f:
                    stats, seen[split] = filter_box_file(lines, Path(source.display(GT_FILE[split])), GT_BOXES,
                                                         set(ids), f, num_classes)
                splits[split] = SplitSummary(split, [v for v in ids if v in stats.videos], {}, stats)
            _check_found(spec, splits, seen, source)

            videos = _plan_videos(spec, splits) if spec.videos else {}
            for split, summary in splits.items():
                keep = set(summary.videos)
                for name in (pair[SPLITS.index(split)] for pair in names.DETECTION_SOURCES.values()):
                    if source.has(name):
                        with source.open_text(name) as lines, staged.open(name) as f:
                            detections, _ = filter_box_file(lines, Path(source.display(name)), PREDICTED_BOXES,
                                                            keep, f)
                        _check_detections(source, name, split, summary, detections)
                with source.open_text(EXCLUSION_FILE[split]) as lines, staged.open(EXCLUSION_FILE[split]) as f:
                    filter_exclusions(lines, Path(source.display(EXCLUSION_FILE[split])), keep, f)
            kept, unrecognised = _filter_other_files(source, staged, splits)

            extracted = reused = 0
            if videos:
                extracted, reused = _video_work(spec, out, videos)
            frame_lists_from = _write_frame_lists(spec, source, _Staging(stack, out / "frame_lists"), out, splits)

            with _errors_name(source.display(names.FULL_LABEL_MAP)):
                write_class_names_json(staged.path("ava.json"), full_map)
        # Leaving the ExitStack without an error renamed every staged file into place.

    config = out / CONFIG_NAME
    detections = _detection_source(source)
    train_file, _ = names.DETECTION_SOURCES[detections]
    other = [n for src, pair in names.DETECTION_SOURCES.items() if src != detections for n in pair if source.has(n)]
    kept = sorted(kept + other)
    atomic_write_text(config, subset_config_text(spec, out, num_classes, detections, source.has(train_file),
                                                 ", ".join(other)))
    return SubsetResult(out, splits, {e.id: e.name for e in full_map}, frame_lists_from, config,
                        f"python tools/run_net.py --cfg {shlex.quote(str(config))}", extracted, reused,
                        kept, unrecognised, _detection_source(source))


def _refuse_overwriting_inputs(source: AnnotationSource, spec: SubsetSpec, out: Path) -> None:
    inputs = [p.resolve() for p in source.local_files()]
    if spec.videos:
        inputs.append(Path(spec.videos).resolve())
    for inp in inputs:
        if inp == out or out in inp.parents:
            raise UserError(f"--out {out} holds the input {inp}: write the subset to a new folder "
                            "(inputs are never modified)")


def _copy_label_maps(source: AnnotationSource, staged: _Staging) -> Tuple[List[LabelMapEntry], List[LabelMapEntry]]:
    """Copy both label maps byte for byte and parse the copies; the second one (all classes) makes ava.json."""
    maps = []
    for name in (names.LABEL_MAP, names.FULL_LABEL_MAP):
        tmp = staged.path(name)
        with source.open_binary(name) as src:
            tmp.write_bytes(src.read())
        with _errors_name(source.display(name)):
            maps.append(read_label_map(tmp))
    return maps[0], maps[1]


def _check_found(spec: SubsetSpec, splits: Dict[str, SplitSummary], seen: Dict[str, Set[str]],
                 source: AnnotationSource) -> None:
    """Every requested id needs ground-truth rows in its split's file; say where it is otherwise."""
    problems = []
    everything = sorted(seen["train"] | seen["val"])
    for split, ids in zip(SPLITS, (spec.train_ids, spec.val_ids)):
        other = "val" if split == "train" else "train"
        for video in ids:
            if video in splits[split].stats.videos:
                continue
            if video in seen[other]:
                problems.append(f"{split} id {video} is a {other} video (it has rows in {GT_FILE[other]}, "
                                f"none in {GT_FILE[split]}): pass it with --{other}-ids")
                closest = [video]
            else:
                closest = difflib.get_close_matches(video, everything, n=3, cutoff=0.6)
                hint = f"; closest: {', '.join(closest)}" if closest else ""
                problems.append(f"{split} id {video} is in neither {GT_FILE['train']} nor {GT_FILE['val']}{hint}")
            splits[split].missing.append((video, closest))
    if problems and not spec.skip_missing:
        raise UserError(f"{source.path}: {'; '.join(problems)} (or pass --skip-missing to build without them)")
    for split, summary in splits.items():
        if not summary.videos:
            raise UserError(f"no {split} video left: none of the {split} ids has rows in {GT_FILE[split]}")


def _check_detections(source: AnnotationSource, name: str, split: str, summary: SplitSummary,
                      detections: BoxStats) -> None:
    """Detected boxes of a video without ground truth would make the dataset fail at load time."""
    extra = [v for v in detections.videos if v not in summary.stats.videos]
    if extra:
        raise DataError(source.display(name), f"videos {', '.join(extra)} have detected boxes "
                        f"but no rows in {GT_FILE[split]}")


def _detection_source(source: AnnotationSource) -> str:
    """The person boxes the written config trains and tests on: the recipe's (AVA's detections) when the source has
    them, else the LFB release's predicted boxes."""
    return "recipe" if source.has(names.VAL_DETECTIONS) else "lfb"


def _split_of(name: str) -> Tuple[str, ...]:
    """The splits whose videos a per-video file holds, from its name (``train``/``val``), else both."""
    words = set(re.split(r"[^a-z]+", name.lower()))
    return tuple(s for s in SPLITS if s in words) or SPLITS


def _filter_other_files(source: AnnotationSource, staged: "_Staging", splits: Dict[str, SplitSummary]
                        ) -> Tuple[List[str], List[str]]:
    """Keep every other per-video CSV of the source, filtered to the subset's videos like AVA's own files: box rows
    (AVA's 7-8 columns) and timestamp lists (video,second). Return (kept, unrecognised) names."""
    kept, unrecognised = [], []
    for name in source.other_files():
        source.add(name)
        fmt = _sniff_rows(source, name) if name.lower().endswith(".csv") else None
        if fmt is None:
            unrecognised.append(name)
            continue
        keep = {v for split in _split_of(name) for v in splits[split].videos}
        where = Path(source.display(name))
        with source.open_text(name) as lines, staged.open(name) as f:
            if fmt is EXCLUSIONS:
                filter_exclusions(lines, where, keep, f)
            else:
                filter_box_file(lines, where, fmt, keep, f)
        kept.append(name)
    return kept, unrecognised


def _sniff_rows(source: AnnotationSource, name: str) -> Optional[RowFormat]:
    """The grammar the first row of a CSV fits, or None: timestamps (video,second), ground truth (7 columns, or an
    integer person id 8th) or predicted boxes (a score 8th)."""
    with source.open_text(name) as lines:
        first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        return None
    cols = [c.strip() for c in first.split(",")]
    fmt = {2: EXCLUSIONS, 7: GT_BOXES}.get(len(cols))
    if len(cols) == 8:
        fmt = GT_BOXES if re.fullmatch(r"\d+", cols[7]) else PREDICTED_BOXES
    try:
        if fmt is not None:
            fmt.parse(Path(name), 1, first)
            return fmt
    except DataError:
        pass
    return None


def _plan_videos(spec: SubsetSpec, splits: Dict[str, SplitSummary]) -> Dict[str, Path]:
    """Each chosen video's file, probed and checked against the window before any work starts."""
    if not Path(spec.videos).is_dir():
        raise UserError(f"{spec.videos}: videos folder not found")
    found = collect_videos([spec.videos])
    wanted = [v for s in splits.values() for v in s.videos]
    absent = [v for v in wanted if v not in found]
    if absent:
        raise UserError(f"{spec.videos}: no video file for {', '.join(absent)} (looked for <id>.mp4, .mkv, .webm, ...)")
    errors: List[UserError] = []
    for video in wanted:
        try:
            frame_window(probe(found[video]), video, spec.fps, spec.start_sec, spec.end_sec)
        except UserError as err:
            errors.append(err)
    raise_failures(errors)
    return {v: found[v] for v in wanted}


def _video_work(spec: SubsetSpec, out: Path, videos: Dict[str, Path]) -> Tuple[int, int]:
    jobs = [ExtractJob(path, out / "frames", video, spec.fps, spec.start_sec, spec.end_sec, spec.quality)
            for video, path in videos.items()]
    results = extract_many(jobs, spec.workers)
    if spec.clips:
        cut = parallel_map(lambda item: cut_clip(item[1], out / "videos_15min" / f"{item[0]}.mp4",
                                                 start_sec=spec.start_sec, end_sec=spec.end_sec),
                           list(videos.items()), spec.workers)
        raise_failures([err for _, err in cut if err is not None])
    skipped = sum(r.skipped for r in results)
    return len(results) - skipped, skipped


def _write_frame_lists(spec: SubsetSpec, source: AnnotationSource, staged: _Staging, out: Path,
                       splits: Dict[str, SplitSummary]) -> str:
    """Filter the source frame lists, or list the extracted frames; check both against the box files."""
    frame_dir = out / "frames"
    have_lists = all(source.has(FRAME_LIST_FILE[s]) for s in SPLITS)
    for split, summary in splits.items():
        if have_lists:
            where = source.display(FRAME_LIST_FILE[split])
            with source.open_text(FRAME_LIST_FILE[split]) as lines:
                rows = filter_frame_list(lines, Path(where), set(summary.videos))
            _check_same_videos(where, split, summary, rows.videos)
            if spec.videos:
                _check_frames_exist(where, frame_dir, rows)
            videos = {v: rows.videos[v] for v in summary.videos}
        else:
            absent = [v for v in summary.videos if not (frame_dir / v).is_dir()]
            if absent:
                raise UserError(f"{source.path} has no frame_lists/ and {frame_dir} has no frames of "
                                f"{', '.join(absent)}: pass --videos DIR to extract them")
            videos = frame_list_from_dir(frame_dir, summary.videos)
            _check_same_videos(str(frame_dir), split, summary, {v: f for v, f in videos.items() if f})
        summary.frames = {v: len(f) for v, f in videos.items()}
        write_frame_list(staged.path(Path(FRAME_LIST_FILE[split]).name), videos)
    return "annotations" if have_lists else "frames"


def _check_same_videos(where: str, split: str, summary: SplitSummary, frame_videos: Dict[str, List[str]]) -> None:
    """Upstream's most reported failure: frame lists and box files covering different videos."""
    without_frames = [v for v in summary.videos if v not in frame_videos]
    if without_frames:
        raise DataError(where, f"{split} videos {', '.join(without_frames)} have rows in {GT_FILE[split]} but "
                        "no frames listed", hint="Frame lists and box files must cover the same videos")


def _check_frames_exist(where: str, frame_dir: Path, rows) -> None:
    for video, paths in rows.videos.items():
        on_disk = {p.name for p in (frame_dir / video).iterdir()} if (frame_dir / video).is_dir() else set()
        for frame_path, line_no in zip(paths, rows.lines[video]):
            if Path(frame_path).name not in on_disk:
                raise DataError(where, f"frame {frame_path} is listed but was not extracted ({len(on_disk)} files "
                                f"in {frame_dir / video})", line_no,
                                "Extract the same seconds as the frame list (--start-sec/--end-sec), or remove "
                                "frame_lists/ from the annotations to list the extracted frames")


# ---------------------------------------------------------------------------
# Config and summary
# ---------------------------------------------------------------------------


def subset_config(spec: SubsetSpec, out: Path, num_classes: int, detections: str = "recipe",
                  train_detections: bool = True) -> Dict[str, Any]:
    """The recipe's edits to the base config, with every path of the subset filled in. ``detections`` names the
    person boxes to use (``names.DETECTION_SOURCES``); ``train_detections``: whether its train file exists."""
    train, val = names.DETECTION_SOURCES[detections]
    train = train if train_detections else None
    first, last = spec.start_sec + VALID_MARGINS[0], spec.end_sec - VALID_MARGINS[1]
    return {
        "_BASE_": str(Path(spec.base_config).resolve()),
        "DATA": {"PATH_TO_DATA_DIR": str(out)},
        "AVA": {
            "FRAME_DIR": str(out / "frames"),
            "FRAME_LIST_DIR": str(out / "frame_lists"),
            "ANNOTATION_DIR": str(out / "annotations"),
            "FPS": spec.fps,
            "START_SEC": spec.start_sec,
            "VALID_SECONDS": [first, last],
            "FULL_TEST_ON_VAL": False,
            "TRAIN_LISTS": [Path(names.TRAIN_FRAME_LIST).name],
            "TEST_LISTS": [Path(names.VAL_FRAME_LIST).name],
            "TRAIN_GT_BOX_LISTS": [names.TRAIN_GT],
            # Upstream's AVA recipe (configs/AVA/SLOWFAST_32x2_R101_50_50.yaml): ground truth plus the detections,
            # whose -1 negatives are trained as background; or the LFB release's predicted boxes when those are
            # the only person boxes the source has.
            "TRAIN_PREDICT_BOX_LISTS": [names.TRAIN_GT] + ([train] if train else []),
            "TEST_PREDICT_BOX_LISTS": [val],
            "GROUNDTRUTH_FILE": names.VAL_GT,
            "EXCLUSION_FILE": names.VAL_EXCLUSIONS,
            "LABEL_MAP_FILE": names.LABEL_MAP,
            "DETECTION_SCORE_THRESH": 0.8,
        },
        "MODEL": {"NUM_CLASSES": num_classes},
        "DEMO": {"LABEL_FILE_PATH": str(out / "annotations" / "ava.json")},
        "OUTPUT_DIR": str(Path(spec.output_dir).resolve()),
    }


def subset_config_text(spec: SubsetSpec, out: Path, num_classes: int, detections: str = "recipe",
                       train_detections: bool = True, other: str = "") -> str:
    """The YAML: block mappings, values in flow style (JSON is valid YAML: lists on one line, paths quoted)."""
    lines = ["# Written by tools/make_subset.py: AVA's recipe on a subset of its videos.",
             f"# Train: {', '.join(spec.train_ids)}. Val: {', '.join(spec.val_ids)}."]
    if other:
        lines.append(f"# Person boxes: {', '.join(names.DETECTION_SOURCES[detections])}; the subset also holds "
                     f"{other}: name it in AVA.TEST_PREDICT_BOX_LISTS (and TRAIN_PREDICT_BOX_LISTS) to use it instead.")
    for key, value in subset_config(spec, out, num_classes, detections, train_detections).items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {json.dumps(v)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def format_summary(result: SubsetResult) -> str:
    lines = []
    for summary in result.splits.values():
        s = summary.stats
        lines.append(f"{summary.name}: {len(summary.videos)} videos, {len(s.keyframes)} keyframes, "
                     f"{len(s.boxes)} boxes, {sum(s.actions.values())} action labels, "
                     f"{sum(summary.frames.values())} frames")
        for video in summary.videos:
            lines.append(f"  {video}: {summary.frames.get(video, 0)} frames")
        lines.append("  actions (labels, id, name):")
        for action_id, count in sorted(s.actions.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {count:7d} {action_id:3d} {result.action_names.get(action_id, '?')}")
        for video, closest in summary.missing:
            lines.append(f"  not found: {video}" + (f" (closest: {', '.join(closest)})" if closest else ""))
    detections = names.DETECTION_SOURCES[result.detections]
    lines.append(f"person boxes in the config: {', '.join(detections)}")
    if result.other_files:
        lines.append(f"also kept, filtered to these videos: {', '.join(result.other_files)}")
    if result.unrecognised:
        lines.append(f"not copied (not a per-video CSV of AVA's formats): {', '.join(result.unrecognised)}")
    lines.append("frame lists: " + ("filtered from the annotations" if result.frame_lists_from == "annotations"
                                    else "listed from the extracted frames"))
    if result.extracted or result.reused:
        lines.append(f"frames: {result.extracted} videos extracted, {result.reused} already complete")
    lines.append(f"dataset: {result.out}")
    lines.append(f"config: {result.config}")
    lines.append("train with:")
    lines.append(f"  {result.command}")
    return "\n".join(lines)

