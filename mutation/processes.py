"""Child processes in their own process groups, and a prompt interrupt.

Every process the kit starts (the baseline, mutmut's generator, the
executor session) leads its own process group, registered here while it
runs. On SIGINT or SIGTERM the kit kills every registered group at once
(the executor's workers have their own groups; the executor kills those on
SIGTERM, and kills them itself if its parent vanishes), then unwinds, so the
scratch copies are removed and the kit exits 130 within a couple of seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import signal
import subprocess
import threading
import time
import types
from collections.abc import Iterator

_GROUPS: set[int] = set()
_STOPPING = threading.Event()
"""Set on SIGINT/SIGTERM: no new child may start after it."""
_LOCK = threading.RLock()  # re-entrant: the signal handler may run inside a locked block
_GRACE_SECONDS = 0.5
"""How long an interrupted child has to kill its own workers before SIGKILL."""


@dataclasses.dataclass
class ChildRun:
    """A finished child: exit status and output; ``timed_out`` if it was killed."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment for a kit child: no stray mutant, no bytecode."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(extra or {})}
    env.pop("MUTANT_UNDER_TEST", None)
    for key in ("KIT_PLAN", "KIT_OUT", "KIT_BASELINE_OUT"):
        if extra is None or key not in extra:
            env.pop(key, None)
    return env


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def stop_children() -> None:
    """SIGTERM every registered group, then SIGKILL what is left after a grace."""
    with _LOCK:
        groups = list(_GROUPS)
    for pid in groups:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    while groups and time.monotonic() < deadline:
        groups = [pid for pid in groups if _alive(pid)]
        time.sleep(0.02)
    for pid in groups:
        _signal_group(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def run_child(
    command: list[str],
    *,
    cwd: pathlib.Path,
    env: dict[str, str] | None = None,
    timeout: float,
) -> ChildRun:
    """Run ``command`` in its own process group and wait for it.

    On a timeout or an interrupt the whole group is killed; an interrupt
    (``KeyboardInterrupt``) is then re-raised.
    """
    if _STOPPING.is_set():
        raise KeyboardInterrupt("the kit is stopping")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with _LOCK:
        _GROUPS.add(process.pid)
    if _STOPPING.is_set():  # started just as the kit was interrupted
        _signal_group(process.pid, signal.SIGKILL)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return ChildRun(-9, stdout or "", stderr or "", timed_out=True)
    except BaseException:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        raise
    finally:
        with _LOCK:
            _GROUPS.discard(process.pid)
        # Whatever the child left in its group (a mutant's subprocesses).
        _signal_group(process.pid, signal.SIGKILL)
    return ChildRun(process.returncode, stdout, stderr)


def _interrupt(signum: int, frame: types.FrameType | None) -> None:
    del frame
    if _STOPPING.is_set():  # a second signal must not cut the clean-up short
        return
    # Kill the children first: a thread blocked on one returns at once.
    _STOPPING.set()
    stop_children()
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``KeyboardInterrupt`` after killing every child."""
    previous = {
        signum: signal.signal(signum, _interrupt) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    _STOPPING.clear()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
