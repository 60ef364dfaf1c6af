"""Child processes in their own process groups, and a prompt interrupt.

Every process the kit starts (the baseline, mutmut's generator, the
executor session) leads its own process group, registered here while it
runs. On SIGINT or SIGTERM the kit kills every registered group at once
(the executor's workers have their own groups; the executor kills those on
SIGTERM, and kills them itself if its parent vanishes), then unwinds, so the
scratch copies are removed and the kit exits 130 within a couple of seconds.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import pathlib
import signal
import subprocess
import threading
import time
import types
import typing as typ
from collections.abc import Iterator

T = typ.TypeVar("T")

_GROUPS: set[int] = set()
_STOPPING = threading.Event()
"""Set on SIGINT/SIGTERM: no new child may start after it."""
_LOCK = threading.RLock()  # re-entrant: the signal handler may run inside a locked block
_GRACE_SECONDS = 0.5
"""How long an interrupted child has to kill its own workers before SIGKILL."""
_POLL_SECONDS = 0.2
"""How often the main thread wakes while it waits on a child or a thread.

The kernel may hand SIGINT or SIGTERM to any of the kit's threads; CPython's
C handler then only sets a flag, and :func:`_interrupt` runs when the main
thread next runs Python code. A main thread blocked without a timeout sat
out a whole 44 s baseline that way (one interrupt in eight, eight workers).
"""


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
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                # Re-calling communicate after its timeout loses no output.
                left = max(0.0, deadline - time.monotonic())
                stdout, stderr = process.communicate(timeout=min(left, _POLL_SECONDS))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() < deadline:
                    continue
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


def result_of(future: concurrent.futures.Future[T]) -> T:
    """Return ``future``'s result, waking every :data:`_POLL_SECONDS` for signals.

    Only the wait is polled: a ``TimeoutError`` the work itself raised is
    re-raised as its outcome.
    """
    while not concurrent.futures.wait([future], timeout=_POLL_SECONDS).done:
        pass
    return future.result()


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
        # Unwound: children may start again (a later run in the same process).
        _STOPPING.clear()
