"""Process groups: every stage leads its own; stopping a run stops the groups.

Real processes only: stages are Python scripts (allowlisted by a catalogue
built for the tests) that start a background child which ignores SIGTERM.
After a timeout or a cancellation, ``/proc`` must show no live process of
the run: not the stages, not their children.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import time
from collections.abc import Iterator

import pytest

from cuprum import Pipeline, TimeoutExpired, sh
from cuprum._pipeline import TERMINATE_GRACE_SECONDS
from tests.helpers.processes import PYTHON, TEST_CATALOGUE, kill_quietly, wait_for_line

python = sh.make(PYTHON, catalogue=TEST_CATALOGUE)

_SPAWN_DEAF_CHILD = """
import os, subprocess, sys, time
ready = sys.argv[1] + ".child"
child = subprocess.Popen(
    [sys.executable, "-c",
     "import signal, sys, time\\n"
     "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
     "open(sys.argv[1], 'w').close()\\n"
     "time.sleep(120)\\n",
     ready],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
while not os.path.exists(ready):
    time.sleep(0.01)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.getpid()} {child.pid} {os.getpgrp()}\\n")
if sys.argv[2] == "stay":
    time.sleep(120)
"""


def _state_and_group(pid: int) -> tuple[str, int] | None:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def _live_members(pgid: int) -> list[int]:
    """Pids of live (not zombie) processes in group ``pgid``."""
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = _state_and_group(int(name))
            if found is not None and found[1] == pgid and found[0] != "Z":
                members.append(int(name))
    return members


def _gone(pid: int) -> bool:
    found = _state_and_group(pid)
    return found is None or found[0] == "Z"


def _wait_until_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    """Poll until every pid is gone (or a zombie); return the survivors."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if not _gone(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if not _gone(pid)]


def _read_pids(path: pathlib.Path) -> tuple[int, int, int]:
    stage, child, group = path.read_text().split()
    return int(stage), int(child), int(group)


@pytest.fixture
def marks(tmp_path: pathlib.Path) -> Iterator[list[pathlib.Path]]:
    paths = [tmp_path / "first", tmp_path / "second"]
    yield paths
    for path in paths:  # never leave a stray process behind a failed test
        with contextlib.suppress(OSError, ValueError):
            for pid in _read_pids(path)[:2]:
                kill_quietly(pid)


def _pipeline(marks: list[pathlib.Path]) -> Pipeline:
    """A first stage that exits leaving a child, and a second that stays."""
    first = python("-c", _SPAWN_DEAF_CHILD, str(marks[0]), "exit")
    second = python("-c", _SPAWN_DEAF_CHILD, str(marks[1]), "stay")
    return first | second


def _assert_nothing_left(marks: list[pathlib.Path]) -> None:
    for mark in marks:
        stage, child, group = _read_pids(mark)
        assert group == stage, "the stage does not lead its own process group"
        assert _wait_until_gone([stage, child]) == []
        assert _live_members(group) == []


def test_every_stage_leads_its_own_process_group() -> None:
    script = "import os; print(os.getpgrp() == os.getpid(), os.getpgrp() != os.getppid())"
    result = (
        python("-c", script) | python("-c", script + "; import sys; sys.stdin.read()")
    ).run_sync(timeout=20)
    assert result.stdout.split() == ["True", "True"]


def test_timeout_kills_every_group_including_children_deaf_to_sigterm(
    marks: list[pathlib.Path],
) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutExpired):
        _pipeline(marks).run_sync(timeout=6)
    _assert_nothing_left(marks)
    # The deaf children needed the SIGKILL that follows the grace period.
    assert time.monotonic() - started >= 6 + TERMINATE_GRACE_SECONDS


def test_cancellation_kills_every_group(marks: list[pathlib.Path]) -> None:
    async def scenario() -> None:
        task = asyncio.create_task(_pipeline(marks).run())
        for mark in marks:
            await wait_for_line(mark, timeout=15)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    _assert_nothing_left(marks)
