"""Process groups: every stage leads its own; stopping a run stops the groups.

Real processes only: stages are Python scripts (allowlisted by a catalogue
built for the tests) that start a background child which ignores SIGTERM.
After a timeout or a cancellation, ``/proc`` must show no live process of
the run: not the stages, not their children.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from cuprum import Pipeline, TimeoutExpired, sh
from cuprum._pipeline import TERMINATE_GRACE_SECONDS
from cuprum._process_groups import signal_groups, stop_groups
from tests.helpers.groups import SPAWN_DEAF_CHILD, live_members, read_pids, wait_until_gone
from tests.helpers.processes import (
    PYTHON,
    TEST_CATALOGUE,
    children_deaf_to_sigterm,
    kill_quietly,
    wait_for_line,
)

python = sh.make(PYTHON, catalogue=TEST_CATALOGUE)


@pytest.fixture
def marks(tmp_path: pathlib.Path) -> Iterator[list[pathlib.Path]]:
    paths = [tmp_path / "first", tmp_path / "second"]
    yield paths
    for path in paths:  # never leave a stray process behind a failed test
        with contextlib.suppress(OSError, ValueError):
            for pid in read_pids(path)[:2]:
                kill_quietly(pid)


def _pipeline(marks: list[pathlib.Path]) -> Pipeline:
    """A first stage that exits leaving a child, and a second that stays."""
    first = python("-c", SPAWN_DEAF_CHILD, str(marks[0]), "exit")
    second = python("-c", SPAWN_DEAF_CHILD, str(marks[1]), "stay")
    return first | second


def _assert_nothing_left(marks: list[pathlib.Path]) -> None:
    for mark in marks:
        stage, child, group = read_pids(mark)
        assert group == stage, "the stage does not lead its own process group"
        assert wait_until_gone([stage, child]) == []
        assert live_members(group) == []


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


def test_signalling_skips_groups_that_no_longer_exist() -> None:
    gone = subprocess.Popen(["true"], process_group=0)
    gone.wait()
    live = subprocess.Popen(["sleep", "30"], process_group=0)
    try:
        assert signal_groups([gone.pid, live.pid], 0) == [live.pid]
    finally:
        live.kill()
        live.wait()


def test_stopping_a_deaf_group_waits_out_the_grace_without_spinning() -> None:
    # The group ignores SIGTERM (blocked from birth), so it lives through the
    # whole grace period: the wait must sleep between polls, not spin.
    with children_deaf_to_sigterm():
        deaf = subprocess.Popen(["sleep", "30"], process_group=0)
    try:
        cpu_before = time.process_time()
        asyncio.run(stop_groups([deaf.pid], grace=1.0))
        cpu_spent = time.process_time() - cpu_before
        assert deaf.wait(timeout=10) == -signal.SIGKILL
    finally:
        kill_quietly(deaf.pid)
    # Polling every 20 ms costs milliseconds; spinning would burn most of 1 s.
    assert cpu_spent < 0.3
