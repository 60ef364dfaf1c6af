"""A pytest plugin, copied into mutmut's ``mutants/`` directory, naming killers.

mutmut records only an exit code per mutant. This plugin replaces pytest's
run loop: for each mutant in the plan it forks a child that sets
``MUTANT_UNDER_TEST`` (mutmut's trampolines read it on every call), runs the
mutant's tests and reports every test whose call phase fails, with its
message. Forking isolates mutants from each other: a mutant that leaves a
thread spinning or a cache poisoned cannot affect the next one, and a child
that overstays its limit is killed. ``KIT_ATTRIBUTION_JOBS`` children run at
once. ``KIT_ATTRIBUTION_MODE=first`` stops at a mutant's first killer;
``matrix`` runs all of its tests.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
import types
import typing as typ

import pytest
from _pytest.runner import runtestprotocol

_armed = [False]


class KitTestTimeoutError(Exception):
    """A test ran past the per-test limit under a mutant."""


def _alarm(signum: int, frame: types.FrameType | None) -> None:
    del signum, frame
    if _armed[0]:
        raise KitTestTimeoutError("test exceeded the kit's per-test limit")


def _last_error_line(report: pytest.TestReport) -> str:
    text = str(report.longreprtext or "")
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:  # pytest's first "E" line is the failure itself
        if line.startswith("E "):
            return line[2:].strip()[:500]
    return (lines[-1] if lines else "")[:500]


def _attribute(
    mutant: str, tests: list[str], items: dict[str, pytest.Item], mode: str, limit: float
) -> dict[str, typ.Any]:
    """Run ``mutant``'s tests in this (child) process; return its record."""
    os.environ["MUTANT_UNDER_TEST"] = mutant
    signal.signal(signal.SIGALRM, _alarm)
    killers: list[dict[str, str]] = []
    timeouts: list[str] = []
    for node in tests:
        item = items.get(node)
        if item is None:
            continue
        _armed[0] = True
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            reports = runtestprotocol(item, nextitem=None, log=False)
        except KitTestTimeoutError:
            timeouts.append(node)
            continue
        finally:
            _armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        for report in reports:
            if not report.failed:
                continue
            if "KitTestTimeoutError" in str(report.longreprtext):
                timeouts.append(node)
            elif report.when == "call":
                killers.append({"test": node, "message": _last_error_line(report)})
            break
        if killers and mode == "first":
            break
    return {"killers": killers, "timeouts": timeouts}


class _Child(typ.NamedTuple):
    mutant: str
    pid: int
    fd: int
    deadline: float


def _spawn(
    mutant: str, tests: list[str], items: dict[str, pytest.Item], mode: str, limit: float
) -> _Child:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without any clean-up
        os.close(read_fd)
        try:
            record = _attribute(mutant, tests, items, mode, limit)
        except BaseException as exc:  # anything at all is reported to the parent
            record = {"killers": [], "timeouts": [], "error": repr(exc)[:300]}
        data = json.dumps(record).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
        os._exit(0)
    os.close(write_fd)
    # In first-killer mode a mutant gets at most four per-test limits: a
    # mutant whose first tests all hang is already shown to hang.
    budget = limit * max(1, len(tests)) + 10
    if mode == "first":
        budget = min(budget, 4 * limit)
    return _Child(mutant, pid, read_fd, time.monotonic() + budget)


def _reap(child: _Child, data: bytes, *, killed: bool) -> dict[str, typ.Any]:
    os.close(child.fd)
    os.waitpid(child.pid, 0)
    if killed:
        return {"killers": [], "timeouts": [], "error": "attribution child overran its limit"}
    try:
        record: dict[str, typ.Any] = json.loads(data.decode())
    except ValueError:
        return {"killers": [], "timeouts": [], "error": "attribution child died"}
    return record


def pytest_runtestloop(session: pytest.Session) -> bool:
    """Run the plan instead of the normal loop, then leave the process."""
    with open(os.environ["KIT_ATTRIBUTION_PLAN"], encoding="utf-8") as handle:
        plan: dict[str, list[str]] = json.load(handle)
    mode = os.environ.get("KIT_ATTRIBUTION_MODE", "first")
    limit = float(os.environ.get("KIT_TEST_TIMEOUT", "10"))
    jobs = max(1, int(os.environ.get("KIT_ATTRIBUTION_JOBS", "1")))
    items = {item.nodeid: item for item in session.items}
    pending = list(plan.items())
    running: dict[int, _Child] = {}
    buffers: dict[int, bytearray] = {}
    out: dict[str, dict[str, typ.Any]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                mutant, tests = pending.pop(0)
                child = _spawn(mutant, tests, items, mode, limit)
                running[child.fd] = child
                buffers[child.fd] = bytearray()
            ready, _, _ = select.select(list(running), [], [], 0.5)
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    buffers[fd].extend(chunk)
                    continue
                child = running.pop(fd)
                out[child.mutant] = _reap(child, bytes(buffers.pop(fd)), killed=False)
            now = time.monotonic()
            for fd, child in list(running.items()):
                if now > child.deadline:
                    os.kill(child.pid, signal.SIGKILL)
                    running.pop(fd)
                    buffers.pop(fd)
                    out[child.mutant] = _reap(child, b"", killed=True)
    finally:
        with open(os.environ["KIT_ATTRIBUTION_OUT"], "w", encoding="utf-8") as handle:
            json.dump(out, handle)
        os._exit(0)
