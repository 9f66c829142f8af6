"""slowfast-custom: AVA-style action detection on your own videos, as a plugin on PySlowFast 1.0.

Importing the package checks that the pinned upstream release is installed
and patched, then registers the plugin's dataset in upstream's
``DATASET_REGISTRY`` (spawned worker processes only see registrations made
at import time, so ``tools/`` scripts import this package first).
"""

import sys
import warnings

# fvcore (imported by upstream's model code) calls torch.jit.script at import time,
# which torch 2.x reports as deprecated on every run; it is not actionable for users.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)


def _running_upstream_tool() -> bool:
    # `python -m slowfast_custom.upstream` imports this package before its
    # own module runs; it is the command that repairs upstream, so it must not
    # be stopped by the check it repairs.
    argv = list(getattr(sys, "orig_argv", []))
    # ... and so is `slowfast-custom upstream` (the console script runs as `python .../bin/slowfast-custom`).
    return any((a == "-m" and b == "slowfast_custom.upstream") or (a.endswith("slowfast-custom") and b == "upstream")
               for a, b in zip(argv, argv[1:]))


if not _running_upstream_tool():
    from slowfast_custom.upstream import UpstreamError, require_patched

    try:
        require_patched()
    except UpstreamError as _err:
        raise ImportError(f"slowfast_custom: {_err}") from None

    from slowfast_custom.data import custom_ava  # noqa: F401,E402  (registers Customava)

__version__ = "0.1.0"
