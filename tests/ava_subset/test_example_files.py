"""slowfast_custom.ava_subset.example_files and tools/make_ava_files.py: generated AVA annotation files that the
strict readers and tools/make_subset.py accept, the subset's rows checked against a filter written here."""

from __future__ import annotations

import csv
import importlib.util
import shlex
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from slowfast_custom.ava import formats as af
from slowfast_custom.ava_subset import source as names
from slowfast_custom.ava_subset.example_files import EVAL_IDS, ExampleSpec, file_names, write_example_files
from slowfast_custom.ava_subset.ids import DEFAULT_TRAIN_IDS, DEFAULT_VAL_IDS
from slowfast_custom.errors import run_cli

from conftest import REPO

TINY = ExampleSpec(train_videos=4, val_videos=2, first_sec=902, last_sec=911, frames_per_video=30)
TRAIN = ("-5KQ66BBWC4", "4ZpjKfu6Cl8", "5BDj0ow5hnA")
VAL = ("1j20qq1JyX4", "7g37N3eoQ9s")


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_tool", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_AVA_FILES, MAKE_SUBSET = _load_tool("make_ava_files"), _load_tool("make_subset")


def run(tool, *argv) -> int:
    return run_cli(tool.main, [str(a) for a in argv])


def rows_of(path: Path, videos: Sequence[str]) -> List[List[str]]:
    """The rows of a box or exclusion CSV whose first column is one of ``videos``, read with the csv module."""
    with open(path, newline="") as f:
        return [row for row in csv.reader(f) if row and row[0] in videos]


def frames_of(path: Path, videos: Sequence[str]) -> Dict[str, List[str]]:
    """``{video: [frame path, ...]}`` of a frame list (space separated, one header line) for ``videos``."""
    found: Dict[str, List[str]] = {}
    for line in path.read_text().splitlines()[1:]:
        video, _, _, frame_path, _ = line.split(" ")
        if video in videos:
            found.setdefault(video, []).append(frame_path)
    return found


def test_files_are_reproducible_and_read_by_the_strict_readers(tmp_path):
    rows, ids = write_example_files(tmp_path / "a", TINY)
    write_example_files(tmp_path / "b", TINY)
    assert sorted(rows) == sorted(file_names(TINY))
    for name in rows:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert ids["train"][0].startswith("-") and len(ids["train"]) == 4 and len(ids["val"]) == 2
    a = tmp_path / "a"
    gt = af.read_box_csv(a / names.TRAIN_GT, "gt")
    assert len(gt) == rows[names.TRAIN_GT] and {r.second for r in gt} == set(range(902, 912))
    assert {r.action_id for r in gt} - set(EVAL_IDS)  # ids the evaluation map leaves out are in the data
    assert len(af.read_box_csv(a / names.VAL_DETECTIONS, "predicted")) == rows[names.VAL_DETECTIONS]
    assert [e.id for e in af.read_label_map(a / names.LABEL_MAP)] == list(EVAL_IDS)
    assert len(af.read_label_map(a / names.FULL_LABEL_MAP)) == 80
    assert af.read_exclusions(a / names.TRAIN_EXCLUSIONS) == {(ids["train"][0], 903)}
    frames = af.read_frame_list(a / names.VAL_FRAME_LIST)
    assert list(frames) == ids["val"] and frames[ids["val"][0]][0] == f"{ids['val'][0]}/{ids['val'][0]}_000001.jpg"
    # AVA's quirks: 4-digit seconds, negatives of the train detections -1, of the val detections empty.
    assert (a / names.TRAIN_GT).read_text().split(",")[1] == "0902"
    assert ",-1," in (a / names.TRAIN_DETECTIONS).read_text()
    assert any(row[6] == "" for row in rows_of(a / names.VAL_DETECTIONS, ids["val"]))


def test_without_frame_lists(tmp_path):
    spec = ExampleSpec(train_ids=TRAIN[:1], val_ids=VAL[:1], first_sec=902, last_sec=903)
    rows, _ = write_example_files(tmp_path, spec)
    assert not (tmp_path / "frame_lists").exists() and sorted(rows) == sorted(file_names(spec))


def test_generated_files_make_a_subset_equal_to_an_independent_filter(tmp_path, capsys):
    """The user's path: generate the files for five ids, build a subset of three as the tool suggests."""
    ann = tmp_path / "ava_example"
    assert run(MAKE_AVA_FILES, "--out", ann, "--train-ids", ",".join(TRAIN), f"--val-ids={','.join(VAL)}") == 0
    suggested = capsys.readouterr().out.strip().splitlines()[-1]
    argv = shlex.split(suggested)
    assert argv[:2] == ["python", "tools/make_subset.py"] and argv[argv.index("--annotations") + 1] == str(ann)
    out = tmp_path / "AVA"
    argv[argv.index("--out") + 1] = str(out)
    train, val = TRAIN[::2], VAL[1:]  # a subset of the generated videos
    argv = [a for a in argv[2:] if not a.startswith(("--train-ids", "--val-ids"))]
    assert run(MAKE_SUBSET, *argv, f"--train-ids={','.join(train)}", f"--val-ids={','.join(val)}") == 0
    assert "frame lists: filtered from the annotations" in capsys.readouterr().out

    for name, videos in ((names.TRAIN_GT, train), (names.TRAIN_DETECTIONS, train), (names.TRAIN_EXCLUSIONS, train),
                         (names.VAL_GT, val), (names.VAL_DETECTIONS, val), (names.VAL_EXCLUSIONS, val)):
        expected = rows_of(ann / name, videos)
        assert rows_of(out / "annotations" / name, videos + TRAIN + VAL) == expected, name
        assert expected or "excluded" in name
    assert len(rows_of(out / "annotations" / names.TRAIN_EXCLUSIONS, TRAIN)) == 1  # TRAIN[0]'s excluded second
    for name in (names.LABEL_MAP, names.FULL_LABEL_MAP):
        assert (out / "annotations" / name).read_bytes() == (ann / name).read_bytes()
    for split, videos in (("train", train), ("val", val)):
        listed = frames_of(out / "frame_lists" / f"{split}.csv", TRAIN + VAL)
        assert listed == frames_of(ann / "frame_lists" / f"{split}.csv", videos)
        assert [len(f) for f in listed.values()] == [(1801 - 900) * 30] * len(videos)  # make_subset's cut at 30 fps


def test_defaults_are_make_subsets_default_ids(tmp_path, capsys):
    assert run(MAKE_AVA_FILES, "--out", tmp_path / "ann", "--frames-per-video", "0", "--last-sec", "903") == 0
    printed = capsys.readouterr().out
    assert (f"--train-ids={','.join(DEFAULT_TRAIN_IDS)} --val-ids={','.join(DEFAULT_VAL_IDS)} "
            "--start-sec 900 --end-sec 906 --videos VIDEOS_DIR") in printed  # the cut around seconds 902-903
    videos = {row[0] for row in rows_of(tmp_path / "ann" / names.TRAIN_GT, DEFAULT_TRAIN_IDS)}
    assert videos == set(DEFAULT_TRAIN_IDS) and not (tmp_path / "ann" / "frame_lists").exists()


@pytest.mark.parametrize("argv, message", [
    (["--first-sec", "905", "--last-sec", "904"], "first second 905 is after last second 904"),
    ([f"--train-ids={TRAIN[0]}", f"--val-ids={TRAIN[0]}"], f"video {TRAIN[0]} is in both splits"),
    (["--val-ids", "a/b"], "video id 'a/b' is empty, starts with a dot or has a space, comma, quote or path separator"),
])
def test_bad_options_give_one_line_and_write_nothing(tmp_path, capsys, argv, message):
    assert run(MAKE_AVA_FILES, "--out", tmp_path / "ann", *argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and message in err
    assert not (tmp_path / "ann").exists()


def test_existing_files_are_never_overwritten(tmp_path, capsys):
    ann = tmp_path / "ann"
    (ann / "frame_lists").mkdir(parents=True)
    (ann / names.VAL_FRAME_LIST).write_text("my own list\n")
    assert run(MAKE_AVA_FILES, "--out", ann, "--last-sec", "902") == 2
    assert f"{ann / names.VAL_FRAME_LIST} exists" in capsys.readouterr().err
    assert (ann / names.VAL_FRAME_LIST).read_text() == "my own list\n"
    assert sorted(p.name for p in ann.rglob("*")) == ["frame_lists", "val.csv"]
