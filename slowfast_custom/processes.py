"""Child processes that die with their tool: the kernel's parent-death signal (Linux) for subprocesses and pools."""

from __future__ import annotations

import os
import sys
from typing import Callable, Optional


def _die_with_parent_fn() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` by which the kernel kills a child process when the thread that started it dies (Linux).

    Without it an ffmpeg or a pool worker whose tool was killed (kill -9, OOM)
    keeps writing into a folder nobody will rename or remove, or idles holding
    its memory. ``prctl`` is looked up here, in the parent: a child forked
    from a threaded process should only make the call.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)
    return lambda: prctl(pr_set_pdeathsig, sigkill)


die_with_parent = _die_with_parent_fn()


def pool_worker_init(parent_pid: int) -> None:
    """``initializer`` of a process pool whose workers must die with the tool (``initargs=(os.getpid(),)``).

    The parent may have died before the worker asked for the signal; the
    worker then finds itself re-parented and exits at once.
    """
    if die_with_parent is not None:
        die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(1)
