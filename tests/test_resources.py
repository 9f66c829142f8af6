"""Package data: configs found by name from any folder, and the upstream pin read from the package."""

from pathlib import Path

import pytest

from slowfast_custom import resources, upstream
from slowfast_custom.errors import UserError

R101 = "SLOWFAST_32x2_R101_custom.yaml"


def test_config_found_by_name_and_by_clone_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    packaged = resources.config_dir() / R101
    assert resources.find_config(R101) == packaged
    assert resources.find_config(f"configs/{R101}") == packaged  # what the docs show, from any folder
    assert (packaged.parent / "Base-Customava.yaml").is_file()  # its _BASE_ resolves beside it


def test_a_file_of_the_users_wins_over_the_packaged_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / R101).write_text("TRAIN:\n  ENABLE: False\n")
    assert resources.find_config(R101) == Path(R101)


def test_unknown_config_names_the_packaged_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=f"no packaged config has that name.*{R101}"):
        resources.find_config("nope.yaml")


def test_pin_is_package_data(tmp_path):
    pin = upstream.read_pin()
    assert pin.requirement == "slowfast==1.0"
    assert pin.patch_dir == resources.upstream_dir() / "slowfast-1.0"
    assert upstream.patch_files(pin.patch_dir)
    bad = tmp_path / "pin.txt"
    bad.write_text("# comment\nslowfast>=1.0\n")
    with pytest.raises(upstream.UpstreamError, match="one line NAME==VERSION"):
        upstream.read_pin(bad)
