"""Running pytest in a workspace and reading which tests failed, and why."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from mutation.results import Killer


@dataclasses.dataclass
class TestRun:
    """The outcome of one pytest run.

    ``outcome`` is ``passed`` (exit 0), ``failed`` (at least one test failed
    in its call phase), ``error`` (collection/setup errors only, or pytest
    crashed), ``no_tests`` or ``timeout``.
    """

    outcome: str
    failures: list[Killer]
    errors: list[Killer]
    passed: int
    duration: float
    output: str


PLUGIN_NAME = "_kit_outcomes"
PLUGIN_SOURCE = pathlib.Path(__file__).with_name("outcomes_plugin.py")


def install_plugin(workspace: pathlib.Path) -> None:
    """Copy the outcome-recording plugin into ``workspace``."""
    shutil.copy2(PLUGIN_SOURCE, workspace / f"{PLUGIN_NAME}.py")


def read_outcomes(path: pathlib.Path) -> tuple[list[Killer], list[Killer], int, int]:
    """Return (call failures, other failures, passed count, total)."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    failures: list[Killer] = []
    errors: list[Killer] = []
    passed = 0
    for node, record in sorted(payload["tests"].items()):
        if record["outcome"] == "failed" and record["phase"] == "call":
            failures.append(Killer(test=node, message=record["message"]))
        elif record["outcome"] == "failed":
            errors.append(Killer(test=node, message=f"{record['phase']}: {record['message']}"))
        elif record["outcome"] == "passed":
            passed += 1
    return failures, errors, passed, len(payload["tests"])


def run_pytest(
    workspace: pathlib.Path,
    tests: list[str],
    *,
    timeout: float,
    extra_env: dict[str, str] | None = None,
    stop_first: bool = False,
) -> TestRun:
    """Run ``tests`` with pytest inside ``workspace`` to completion.

    Parameters
    ----------
    workspace
        An isolated copy of the project.
    tests
        Test files or node ids, relative to the workspace.
    timeout
        Seconds before the run is killed and reported as ``timeout``.
    extra_env
        Variables added to the environment.
    stop_first
        Stop at the first failure (``-x``); used only where a verdict, not
        the list of killers, is wanted.

    Returns
    -------
    TestRun
        The outcome and every failing test with its message.
    """
    outcomes = workspace / ".kit-outcomes.json"
    outcomes.unlink(missing_ok=True)
    install_plugin(workspace)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=short",
        "-p",
        PLUGIN_NAME,
        *(["-x"] if stop_first else []),
        *tests,
    ]
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "KIT_OUTCOMES_PATH": str(outcomes),
        "KIT_HARD_EXIT": "1",
        # A test hung by a mutant fails after 10 s instead of the suite's 30.
        "CUPRUM_TEST_TIME_LIMIT": "10",
        **(extra_env or {}),
    }
    env.pop("MUTANT_UNDER_TEST", None)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else ""
        return TestRun("timeout", [], [], 0, time.monotonic() - started, output)
    duration = time.monotonic() - started
    output = completed.stdout + completed.stderr
    if not outcomes.exists():
        return TestRun("error", [], [], 0, duration, output)
    failures, errors, passed, total = read_outcomes(outcomes)
    if completed.returncode == 5 or total == 0:
        outcome = "no_tests"
    elif failures:
        outcome = "failed"
    elif errors or completed.returncode != 0:
        outcome = "error"
    else:
        outcome = "passed"
    return TestRun(outcome, failures, errors, passed, duration, output)
