"""Observing real OS state in tests: child processes, open descriptors.

Nothing here mocks anything: the helpers read ``/proc`` so that tests can
assert that a run left no child process (running or zombie) and no open
file descriptor behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator

from cuprum import DEFAULT_CATALOGUE, Program, ProgramCatalogue, ProgramEntry, SafeCmd, sh

PYTHON = Program(sys.executable)
"""This interpreter, allowlisted by :data:`TEST_CATALOGUE` for scripted stages."""

TEST_PROJECT = "cuprum-tests"


def catalogue_with(*programs: str) -> ProgramCatalogue:
    """Return the default catalogue plus ``programs``."""
    entries = [DEFAULT_CATALOGUE.lookup(program) for program in DEFAULT_CATALOGUE]
    entries.extend(
        ProgramEntry(Program(program), project=TEST_PROJECT, notes="test only")
        for program in programs
    )
    return ProgramCatalogue(entries)


TEST_CATALOGUE = catalogue_with(PYTHON, "printenv", "pwd", "sha256sum")
"""The default programs plus this interpreter, ``printenv``, ``pwd``, ``sha256sum``."""


def script(source: str, *args: str) -> SafeCmd:
    """A command running ``source`` with this interpreter (``-c``)."""
    return sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", source, *args)


def open_fds() -> set[int]:
    """Return the descriptors open in this process."""
    return {int(name) for name in os.listdir("/proc/self/fd")}


def _stat_fields(pid: str) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def child_processes() -> dict[int, str]:
    """Return ``{pid: state}`` for every child of this process (zombies too)."""
    me = os.getpid()
    children: dict[int, str] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        found = _stat_fields(name)
        if found is not None and found[1] == me:
            children[int(name)] = found[0]
    return children


def assert_reaped(pids: Iterable[int]) -> None:
    """Assert that every pid is neither running nor a zombie child of ours."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        else:  # pragma: no cover - the failure path
            msg = f"process {pid} is still our child (running or zombie)"
            raise AssertionError(msg)
        assert pid not in child_processes(), f"process {pid} still exists"


async def wait_for_line(path: os.PathLike[str] | str, timeout: float = 10.0) -> str:
    """Poll until ``path`` holds a complete line; return the content."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8") as handle:
                content = handle.read()
        except FileNotFoundError:
            content = ""
        if content.endswith("\n"):
            return content
        await asyncio.sleep(0.01)
    msg = f"{path} was not written within {timeout} s"
    raise AssertionError(msg)


def kill_quietly(pid: int) -> None:
    """Send SIGKILL to ``pid`` if it still exists (test clean-up)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def children_deaf_to_sigterm() -> Iterator[None]:
    """Block SIGTERM in this thread, so that processes it spawns inherit the block.

    A child spawned inside the block ignores cuprum's SIGTERM and lives until
    the SIGKILL that follows the grace period, which makes "was anything
    spawned and then terminated?" observable as a delay of at least
    ``TERMINATE_GRACE_SECONDS``.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
