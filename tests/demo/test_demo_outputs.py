"""The demo's video, CSV and JSON appear together or not at all; a full disk is one line."""

import errno
import os

from slowfast_custom.demo import results
from slowfast_custom.demo.results import output_paths
from slowfast_custom.errors import run_cli

from demo_fixtures import demo_setup  # noqa: F401  (fixture)


def test_a_full_disk_between_the_outputs_leaves_none_of_them(demo_setup, tmp_path, monkeypatch, capsys):
    from slowfast_custom.demo.runner import run_demo

    output = tmp_path / "out" / "demo.mp4"
    output.parent.mkdir()
    staged_before_failure = []

    def full_disk(path, text):
        # The video is encoded and the CSV written, under temporary names, when the JSON fails.
        staged_before_failure.extend(sorted(p.name for p in output.parent.iterdir()))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results, "atomic_write_text", full_disk)
    assert run_cli(run_demo, demo_setup.cfg(output)) == 2
    err = capsys.readouterr().err  # tqdm's progress bar, then the error
    assert err.count("error: ") == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(
        f"error: {output}: cannot write the demo's outputs (No space left on device); none of the "
        "video, CSV and JSON was written; free some space")
    assert len(staged_before_failure) == 3 and all(n.endswith(".tmp") for n in staged_before_failure)
    assert [n.split(".")[1] for n in staged_before_failure] == ["demo", "demo_predictions", "demo_predictions"]
    assert list(output.parent.iterdir()) == []
    assert not any(p.exists() for p in (output, *output_paths(output)))
