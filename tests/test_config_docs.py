"""docs/config.md lists every config key the plugin adds to upstream's."""

from pathlib import Path

from slowfast.config.defaults import get_cfg as upstream_cfg

from slowfast_custom.config import get_cfg

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def _keys(node, prefix=""):
    for key, value in node.items():
        if hasattr(value, "items"):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield prefix + key


def test_every_added_key_is_documented():
    added = set(_keys(get_cfg())) - set(_keys(upstream_cfg()))
    text = DOC.read_text()
    missing = sorted(key for key in added if f"`{key}`" not in text)
    assert not missing, f"add these to docs/config.md: {missing}"
