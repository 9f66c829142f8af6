"""The model zoo's checkpoints by name or URL: downloaded once into torch's cache (from a local server here), then
reused; offline, one line says what to download and where to put it."""

import pytest
import torch

from slowfast_custom import zoo
from slowfast_custom.errors import UserError

from weights_server import WeightsServer, closed_port, torch_home  # noqa: F401  (torch_home: a fixture)

NAME = "SLOWFAST_32x2_R101_50_50.pkl"


def test_the_recipes_zoo_name_is_the_zoos_published_address():
    assert zoo.weights_url(NAME) == "https://dl.fbaipublicfiles.com/pyslowfast/model_zoo/ava/" + NAME
    assert zoo.weights_url("weights/" + NAME) == ""  # a path with a folder is the user's own file
    assert zoo.weights_url("mine.pyth") == ""


def test_an_existing_file_wins_over_the_zoo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / NAME).write_bytes(b"local")
    assert zoo.resolve_checkpoint(NAME).resolve() == tmp_path / NAME


def test_a_zoo_name_is_downloaded_once_into_torchs_cache(torch_home, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    body = b"\x80stand-in zoo file"
    server = WeightsServer({f"/ava/{NAME}": body})
    try:
        monkeypatch.setattr(zoo, "ZOO_URLS", {NAME: server.url(f"ava/{NAME}")})
        with caplog.at_level("INFO"):
            path = zoo.resolve_checkpoint(NAME)
        assert path == torch_home / "hub" / "checkpoints" / NAME and path.read_bytes() == body
        assert "sha256 " in caplog.text and server.requests == [f"/ava/{NAME}"]
        assert zoo.resolve_checkpoint(NAME) == path and len(server.requests) == 1  # from the cache now
        url = server.url(f"ava/{NAME}")
        assert zoo.resolve_checkpoint(url) == path and len(server.requests) == 1  # a URL names the same file
    finally:
        server.close()


def test_offline_says_what_to_download_and_where(torch_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    offline = f"http://127.0.0.1:{closed_port()}/ava/{NAME}"
    monkeypatch.setattr(zoo, "ZOO_URLS", {NAME: offline})
    with pytest.raises(UserError) as err:
        zoo.resolve_checkpoint(NAME)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"cannot download {NAME} (")
    assert f"download {offline} and set TRAIN.CHECKPOINT_FILE_PATH to the file" in text
    assert not (torch_home / "hub" / "checkpoints" / NAME).exists()


def test_the_downloaded_zoo_format_loads_as_a_checkpoint(torch_home, tmp_path, monkeypatch):
    """The file that arrives is loaded like the zoo's own (a PyTorch file despite .pkl, no code run on load)."""
    import io

    from slowfast_custom import checkpoint as cu

    monkeypatch.chdir(tmp_path)
    model = torch.nn.Linear(3, 2)
    buffer = io.BytesIO()
    torch.save({"epoch": 49, "model_state": {k: v + 1 for k, v in model.state_dict().items()}}, buffer)
    server = WeightsServer({f"/ava/{NAME}": buffer.getvalue()})
    try:
        monkeypatch.setattr(zoo, "ZOO_URLS", {NAME: server.url(f"ava/{NAME}")})
        before = {k: v.clone() for k, v in model.state_dict().items()}
        cu.load_pretrained(model, zoo.resolve_checkpoint(NAME), "pytorch")
        assert all(torch.equal(model.state_dict()[k], before[k] + 1) for k in before)
    finally:
        server.close()
