"""Processes a mutant leaves behind, stopped when the executor ends (Linux).

A mutant can break the very code that stops processes. Under "no SIGKILL
after the grace period" a test's stage that ignores SIGTERM outlives its
test, in a process group (or a session) of its own, which killing the
worker's process group does not reach; it would run on after the kit, for
good if it never exits. So the executor makes itself a child subreaper
(``prctl(PR_SET_CHILD_SUBREAPER)``): such orphans become its children
instead of init's, and when the session ends, normally or on a signal, it
kills each of them with its process group and reaps it, level by level.

This module is copied into the workspace beside the session plugin (as
``_kit_orphans``), so it imports only the standard library.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pathlib
import signal

_PR_SET_CHILD_SUBREAPER = 36
_ROUNDS = 20
"""Levels of orphans to reap: a killed orphan's own children come next."""


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children; return whether it could.

    Elsewhere than Linux (no ``prctl``) nothing changes and orphans go to
    init as before.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _children() -> set[int]:
    """Return this process's children, from every thread's ``children`` list."""
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for task in pathlib.Path(f"/proc/{os.getpid()}/task").iterdir():
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def reap_orphans() -> int:
    """SIGKILL every child of this process, and its group, and reap it.

    Only for the end of the executor: every worker has finished or been
    killed by then, so every child left is an orphan (or a worker being
    killed anyway). Returns how many processes were stopped.
    """
    own_group = os.getpgrp()
    stopped = 0
    for _ in range(_ROUNDS):
        pids = _children()
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                group = os.getpgid(pid)
                if group != own_group:
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        stopped += len(pids)
    return stopped
