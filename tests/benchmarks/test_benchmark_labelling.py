"""tools/benchmark_labelling.py on the first seconds of vtest.avi: frames, tracks, both browser sessions and the
JSON (a smoke test: the counts must be consistent, not equal to the full run's)."""

import json

import pytest

from conftest import require_browser, run_tool, shared_file

SECONDS = 6  # keyframes 2-4: a few short tracks, about a minute on a 2-core CPU


@pytest.mark.slow
def test_labelling_benchmark_counts_fewer_actions_by_track_span(tmp_path):
    video = shared_file("data", "vtest.avi")
    require_browser()
    out = tmp_path / "results.json"
    result = run_tool("benchmark_labelling.py", "--video", video, "--seconds", SECONDS, "--threads", 1,
                      "--data-dir", tmp_path / "data", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert not list(tmp_path.glob(".results.json.*"))  # written atomically

    assert results["data"]["made_now"] and results["data"]["video_seconds"] == {"vtest": SECONDS}
    assert results["keyframes"] == SECONDS - 3  # 2 s left out at each end
    assert 0 < results["tracks"] <= results["runs"] <= results["boxes"]
    assert results["single_box_tracks"] <= results["tracks"]
    actions = results["actions"]
    # The benchmark itself fails when a session's labels differ from the plan or its count from track_span_count.
    assert actions["by track span"] == 2 * results["runs"]  # one video: a click and a key per run
    assert actions["by track span, auto-advance"] == actions["by track span"] + 1 - (results["tracks"] - 1)
    assert actions["box by box"] >= 1 + 2 * results["boxes"]
    for name, ratio in results["fewer_than_box_by_box"].items():
        assert ratio == round(actions["box by box"] / actions[name], 2) and ratio > 1
    assert "box by box (counted)" in result.stdout and "host:" in result.stdout


def test_a_missing_video_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "absent.avi"
    result = run_tool("benchmark_labelling.py", "--video", missing, "--data-dir", tmp_path / "data",
                      "--out", tmp_path / "results.json")
    assert result.returncode == 2
    assert result.stderr == f"error: {missing}: video not found (the measure labels its tracks; give another with " \
                            "--video)\n"
    assert not (tmp_path / "data").exists() and not (tmp_path / "results.json").exists()
