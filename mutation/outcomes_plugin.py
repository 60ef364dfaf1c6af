"""A pytest plugin, copied into each workspace, that records every outcome.

It writes JSON to the path in ``KIT_OUTCOMES_PATH``: for each test node id,
the phase that failed (``setup``, ``call`` or ``teardown``) and the failure's
last line, so the kit can tell a kill (a failing call) from an error.
"""

from __future__ import annotations

import json
import os
import sys
import typing as typ

import pytest

_records: dict[str, dict[str, str]] = {}


def _summary(report: pytest.TestReport) -> str:
    text = str(report.longreprtext or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:  # pytest's first "E" line is the failure itself
        if line.startswith("E "):
            return line[2:].strip()[:500]
    return (lines[-1] if lines else "")[:500]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record the first non-passing phase of each test (or its pass)."""
    entry = _records.setdefault(report.nodeid, {"outcome": "passed", "phase": "", "message": ""})
    if entry["outcome"] != "passed":
        return
    if report.failed:
        entry.update(outcome="failed", phase=report.when, message=_summary(report))
    elif report.skipped and report.when in ("setup", "call"):
        entry.update(outcome="skipped", phase=report.when, message=_summary(report))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Record collection errors as errors of the collected node."""
    if report.failed:
        _records[report.nodeid or "<collection>"] = {
            "outcome": "failed",
            "phase": "collect",
            "message": str(report.longreprtext).strip().splitlines()[-1][:500]
            if str(report.longreprtext).strip()
            else "collection failed",
        }


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the records where the kit asked."""
    del session
    _exit_status.append(int(exitstatus))
    path = os.environ.get("KIT_OUTCOMES_PATH")
    if path:
        payload: dict[str, typ.Any] = {"exitstatus": int(exitstatus), "tests": _records}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave at once: a mutant may have left a thread the interpreter would wait for.

    Only when ``KIT_HARD_EXIT=1`` (mutant runs); the coverage run must exit
    normally so coverage.py can save its data.
    """
    del config
    if os.environ.get("KIT_HARD_EXIT") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[0] if _exit_status else 3)
