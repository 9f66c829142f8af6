"""The plugin's hook into upstream: ``setup_plugin()`` checks the pinned release, then registers the dataset.

Every command that builds a model or a dataset (``tools/run_net.py`` for
training, testing and the demo, ``tools/export_model.py``, the labelling app's
``--model``, the benchmarks) calls it before it imports upstream's model code,
so an unpatched upstream is one ``error:`` line naming the command that fixes
it instead of an ImportError traceback.

The registration itself is a side effect of importing
``slowfast_custom.data.custom_ava``: processes that do not run the command's
``main`` (DataLoader workers and ``mp.spawn`` children, which unpickle the
dataset or ``engine.trainer.train``) import that module, and so register,
when they unpickle what they run.
"""

from __future__ import annotations

from slowfast_custom.upstream import require_patched

_ready = False


def setup_plugin() -> None:
    """Raise UpstreamError (a UserError) unless upstream is pinned and patched; then register ``Customava``.

    Idempotent: the hashes of upstream's files are checked once per process.
    """
    global _ready
    if _ready:
        return
    require_patched()
    import slowfast_custom.data.custom_ava  # noqa: F401  (registers Customava in upstream's DATASET_REGISTRY)

    _ready = True
