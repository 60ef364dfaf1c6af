"""Branch coverage of the target modules (coverage.py), measured on a copy."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from mutation.config import KitConfig
from mutation.pytest_runs import PLUGIN_NAME, TestRun, install_plugin, read_outcomes


def run_coverage(workspace: pathlib.Path, config: KitConfig) -> tuple[TestRun, dict[str, float]]:
    """Run the pathway tests under coverage in ``workspace``.

    This run is also the kit's baseline: its test outcome must be a pass.

    Returns
    -------
    tuple
        The test run and ``{target: percent}`` where percent counts
        statements and branches (coverage.py's figure with ``branch = true``).
    """
    install_plugin(workspace)
    outcomes = workspace / ".kit-outcomes.json"
    data_file = workspace / ".kit-coverage"
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "KIT_OUTCOMES_PATH": str(outcomes),
        "COVERAGE_FILE": str(data_file),
    }
    env.pop("MUTANT_UNDER_TEST", None)
    sources = ",".join(config.targets)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "--branch",
            f"--include={sources}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            PLUGIN_NAME,
            *config.tests,
        ],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=config.mutant_timeout * 4,
    )
    output = completed.stdout + completed.stderr
    if outcomes.exists():
        failures, errors, passed, total = read_outcomes(outcomes)
    else:
        failures, errors, passed, total = [], [], 0, 0
    outcome = (
        "passed" if completed.returncode == 0 and total else ("failed" if failures else "error")
    )
    run = TestRun(outcome, failures, errors, passed, 0.0, output)
    percents: dict[str, float] = {}
    if data_file.exists():
        report = workspace / ".kit-coverage.json"
        subprocess.run(
            [sys.executable, "-m", "coverage", "json", "-q", "-o", str(report)],
            cwd=workspace,
            env=env,
            capture_output=True,
            check=False,
        )
        if report.exists():
            files = json.loads(report.read_text(encoding="utf-8"))["files"]
            for target in config.targets:
                summary = files.get(target, {}).get("summary")
                percents[target] = round(float(summary["percent_covered"]), 2) if summary else 0.0
    for target in config.targets:
        percents.setdefault(target, 0.0)
    return run, percents
