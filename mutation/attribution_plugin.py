"""A pytest plugin, copied into mutmut's ``mutants/`` directory, naming killers.

mutmut records only an exit code per mutant. This plugin runs, in a single
pytest session, each listed mutant's tests with ``MUTANT_UNDER_TEST`` set
(mutmut's trampolines read it on every call), and records every test whose
call phase fails, with its message. ``KIT_ATTRIBUTION_MODE=first`` stops at
the first killer of each mutant; ``matrix`` runs all of them.
"""

from __future__ import annotations

import json
import os
import signal
import types
import typing as typ

import pytest
from _pytest.runner import runtestprotocol


class KitTestTimeoutError(Exception):
    """A test ran past the per-test limit under a mutant."""


def _alarm(signum: int, frame: types.FrameType | None) -> None:
    del signum, frame
    raise KitTestTimeoutError("test exceeded the kit's per-test limit")


def _last_error_line(report: pytest.TestReport) -> str:
    text = str(report.longreprtext or "")
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("E "):
            return line[2:].strip()[:500]
    return (lines[-1] if lines else "")[:500]


def pytest_runtestloop(session: pytest.Session) -> bool:
    """Run the plan instead of the normal loop."""
    with open(os.environ["KIT_ATTRIBUTION_PLAN"], encoding="utf-8") as handle:
        plan: dict[str, list[str]] = json.load(handle)
    mode = os.environ.get("KIT_ATTRIBUTION_MODE", "first")
    limit = float(os.environ.get("KIT_TEST_TIMEOUT", "30"))
    items = {item.nodeid: item for item in session.items}
    previous = signal.signal(signal.SIGALRM, _alarm)
    out: dict[str, dict[str, typ.Any]] = {}
    try:
        for mutant, tests in plan.items():
            os.environ["MUTANT_UNDER_TEST"] = mutant
            killers: list[dict[str, str]] = []
            timeouts: list[str] = []
            for node in tests:
                item = items.get(node)
                if item is None:
                    continue
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    reports = runtestprotocol(item, nextitem=None, log=False)
                finally:
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
            out[mutant] = {"killers": killers, "timeouts": timeouts}
    finally:
        os.environ.pop("MUTANT_UNDER_TEST", None)
        signal.signal(signal.SIGALRM, previous)
        with open(os.environ["KIT_ATTRIBUTION_OUT"], "w", encoding="utf-8") as handle:
            json.dump(out, handle)
    return True
