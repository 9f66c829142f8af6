"""tools/benchmark_labelling.py on the first seconds of vtest.avi and one synthetic video with a model trained for
one step: frames, tracks, the model, every browser session and the JSON (a smoke test: the counts must be
consistent, not equal to the full run's)."""

import json

import pytest

from conftest import require_browser, run_tool, shared_file

SECONDS = 6  # keyframes 2-4: a few short tracks
SESSIONS = ["by track span", "by track span, auto-advance", "+ action lanes"]
SUGGESTED = "+ model suggestions"


@pytest.mark.slow
def test_labelling_benchmark_counts_fewer_actions_by_track_span(tmp_path):
    video = shared_file("data", "vtest.avi")
    require_browser()
    out = tmp_path / "results.json"
    # One synthetic video to train on (one iteration: a model that runs, not one that is right) and one to label.
    result = run_tool("benchmark_labelling.py", "--video", video, "--seconds", SECONDS, "--threads", 1,
                      "--data-dir", tmp_path / "data", "--synthetic-dir", tmp_path / "synthetic",
                      "--synthetic-videos", 1, 1, "--synthetic-epochs", 1, "--out", out, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert not list(tmp_path.glob(".results.json.*"))  # written atomically

    random = results["random_plans"]
    assert random["data"]["made_now"] and random["data"]["video_seconds"] == {"vtest": SECONDS}
    assert random["keyframes"] == SECONDS - 3  # 2 s left out at each end
    assert 0 < random["tracks"] <= random["runs"] <= random["boxes"]
    assert random["single_box_tracks"] <= random["tracks"]
    actions = random["actions"]
    # The benchmark itself fails when a session's labels differ from the truth or its count from the prediction.
    assert actions["by track span"] == 2 * random["runs"]  # one video: a click and a key per run
    assert actions["by track span, auto-advance"] == actions["by track span"] + 1 - (random["tracks"] - 1)
    assert actions["+ action lanes"] == actions["by track span, auto-advance"] - (random["runs"] - random["tracks"])
    assert actions["box by box"] >= 1 + 2 * random["boxes"]
    assert random["labels_equal_truth"] == {name: 1.0 for name in SESSIONS}

    synthetic = results["model_suggestions"]
    assert synthetic["data"]["trained_now"] and (tmp_path / "synthetic" / "model" / "checkpoints").is_dir()
    assert synthetic["tracks"] == synthetic["runs"] >= 1  # one action per synthetic figure
    assert synthetic["labels_equal_truth"] == {name: 1.0 for name in SESSIONS + [SUGGESTED]}
    right, counted = synthetic["suggestions"]["tracks_right"], synthetic["actions"][SUGGESTED]
    # One video: a key to accept, then per wrong track a click to select it and at least one on a lane.
    assert 1 + 2 * round((1 - right) * synthetic["tracks"]) <= counted <= 1 + synthetic["tracks"] + synthetic["boxes"]
    assert synthetic["suggestions"]["actions_saved"] == synthetic["actions"]["by track span, auto-advance"] - counted
    for part in (random, synthetic):
        for name, ratio in part["fewer_than_box_by_box"].items():
            assert ratio == round(part["actions"]["box by box"] / part["actions"][name], 2)
    assert "box by box" in result.stdout and "synthetic, model" in result.stdout and "host:" in result.stdout


def test_a_missing_video_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "absent.avi"
    result = run_tool("benchmark_labelling.py", "--video", missing, "--data-dir", tmp_path / "data",
                      "--out", tmp_path / "results.json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]  # argparse's usage, then one line
    assert errors == [f"benchmark_labelling.py: error: argument --video: {missing}: file not found"]
    assert not (tmp_path / "data").exists() and not (tmp_path / "results.json").exists()
