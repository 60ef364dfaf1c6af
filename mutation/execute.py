"""Execute mutants: one pytest session, one forked worker per mutant.

The session collects the tests once in the workspace (mutmut's trampolined
copy, or a pristine copy when only the catalogue runs); the kit's plugin
then forks a worker per mutant that switches the mutant on and runs only
the tests covering its function, fastest first. A mutant is executed once:
its killers are recorded as it runs (the first, or every one for the
catalogue and ``--matrix``). Each test has a wall-clock limit of
``timeout_factor`` x its baseline duration + ``timeout_constant``; a test
past it has its worker's process group killed and the mutant is a
``timeout`` unless a test failed.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import shutil
import sys
import typing as typ
from collections.abc import Callable

from mutation.baseline import PLUGIN_NAME, Baseline, body_spans, install_plugin
from mutation.config import KitConfig
from mutation.mutants import Activation, Mutant
from mutation.processes import result_of, run_child
from mutation.progress import ExecutionProgress
from mutation.results import Killer

Progress = Callable[[str], None]

_SESSION_LIMIT_SECONDS = 3600

RECORDS_FILE = ".kit-executed.jsonl"
"""Where a session's plugin appends one JSON line per finished mutant."""


class ExecutorFailedError(RuntimeError):
    """The executor's pytest session itself failed (not a mutant verdict)."""


def assign_tests(
    mutants: list[Mutant], pristine: pathlib.Path, baseline: Baseline, config: KitConfig
) -> None:
    """Set each mutant's covering tests from the baseline's coverage.

    Those that run the mutated statement come first, each group fastest first
    (see :meth:`Baseline.covering`).

    A ``file`` mutant outside every function body (a module- or class-level
    statement) changes what importing its module does, which happens before
    any test's coverage context: every test of the baseline covers it. A
    scoped test counts only for its targets (:meth:`KitConfig.runs_against`).
    """
    spans: dict[str, dict[str, tuple[int, int]]] = {}
    every_test = sorted(baseline.durations, key=lambda t: (baseline.durations[t], t))
    for mutant in mutants:
        file = mutant.result.file
        if file not in spans:
            spans[file] = body_spans((pristine / file).read_text(encoding="utf-8"))
        span = spans[file].get(mutant.result.function)
        if span:
            mutated = (mutant.result.line_start, mutant.result.line_end)
            tests = baseline.covering(file, span, mutated if mutated[0] > 0 else None)
        elif mutant.activation.kind == "file":
            tests = every_test
        else:
            tests = []
        mutant.result.tests = [t for t in tests if config.runs_against(t, file)]


def test_limits(baseline: Baseline, config: KitConfig) -> dict[str, float]:
    """Return each test's wall-clock limit under a mutant."""
    return {
        test: round(config.timeout_factor * seconds + config.timeout_constant, 3)
        for test, seconds in baseline.durations.items()
    }


def plan_jobs(
    mutants: list[Mutant], baseline: Baseline, config: KitConfig, *, matrix: bool
) -> dict[str, typ.Any]:
    """Return the executor's plan: the jobs in the order they start, and the limits.

    Jobs that record every killer go first: each of their failing tests may
    run to its own timeout, which no baseline duration predicts (one
    catalogue entry took 36 s in one run and over 4 minutes of tests in
    another, where a bounded parity test failed instead of hanging). Then
    the longest first by the baseline, so a slow mutant does not end up
    running alone at the end.
    """

    def every_killer(m: Mutant) -> bool:
        return matrix or m.every_killer

    ordered = sorted(
        mutants,
        key=lambda m: (
            not every_killer(m),
            -sum(baseline.durations.get(t, 0.0) for t in m.result.tests),
        ),
    )
    return {
        "jobs": [
            {
                "id": m.id,
                "activation": m.activation.to_json(),
                "tests": m.result.tests,
                "mode": "all" if every_killer(m) else "first",
            }
            for m in ordered
        ],
        "limits": test_limits(baseline, config),
        "default_limit": config.timeout_constant,
        "workers": config.jobs,
    }


def _verdict(mutant: Mutant, record: dict[str, object]) -> None:
    result = mutant.result
    failures = record.get("tests", [])
    timeouts = list(record.get("timeouts", []))  # type: ignore[call-overload]
    assert isinstance(failures, list)
    result.duration = float(record.get("duration", 0.0))  # type: ignore[arg-type]
    if record.get("error"):
        result.status = "error"
        result.detail = f"the mutant could not be switched on: {record['error']}"
        return
    calls = [f for f in failures if f["phase"] == "call"]
    if result.must_kill:
        # Only a failing assertion (a test's call phase) kills a must-kill mutant.
        result.killers = [Killer(test=f["test"], message=f["message"]) for f in calls]
    else:
        # mutmut counts any failing test (setup included) as a kill.
        result.killers = [
            Killer(
                test=f["test"],
                message=f["message"] if f["phase"] == "call" else f"{f['phase']}: {f['message']}",
            )
            for f in failures
        ]
    errors = [f for f in failures if f["phase"] != "call"]
    if result.killers:
        result.status = "killed"
    elif timeouts:
        result.status = "timeout"
        result.detail = "hung past the per-test limit: " + ", ".join(timeouts[:3])
    elif errors:
        result.status = "error"
        result.detail = "; ".join(f"{f['test']}: {f['phase']}: {f['message']}" for f in errors[:3])
    else:
        result.status = "survived"
    if result.killers and timeouts:
        result.detail = "also hung past the per-test limit: " + ", ".join(timeouts[:3])


def _session(
    workspace: pathlib.Path,
    mutants: list[Mutant],
    baseline: Baseline,
    config: KitConfig,
    *,
    matrix: bool,
    workers: int,
) -> dict[str, dict[str, object]]:
    """Run one executor session in ``workspace``; return its record per mutant id."""
    install_plugin(workspace)
    plan_path = workspace / ".kit-plan.json"
    out_path = workspace / RECORDS_FILE
    plan = plan_jobs(mutants, baseline, config, matrix=matrix)
    plan["workers"] = workers
    # Collect only the files the plan's tests are in (a review's few mutants
    # need a few files; importing all of them cost about 0.7 s).
    needed = {test.split("::")[0] for m in mutants for test in m.result.tests}
    plan_path.write_text(json.dumps(plan))
    out_path.write_text("")
    completed = run_child(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            PLUGIN_NAME,
            "--rootdir=.",
            "--tb=line",
            *(file for file in config.tests if file in needed),
        ],
        cwd=workspace,
        env={"KIT_PLAN": str(plan_path), "KIT_OUT": str(out_path)},
        timeout=_SESSION_LIMIT_SECONDS,
    )
    records = {
        record["id"]: record
        for record in (json.loads(line) for line in out_path.read_text().splitlines() if line)
    }
    if not records and completed.returncode != 0:
        tail = (completed.stdout + completed.stderr).strip().splitlines()[-15:]
        raise ExecutorFailedError("the executor's pytest session failed:\n" + "\n".join(tail))
    return records


def _file_session(
    mutant: Mutant,
    pristine: pathlib.Path,
    baseline: Baseline,
    config: KitConfig,
    *,
    matrix: bool,
) -> dict[str, dict[str, object]]:
    """Run a ``file`` mutant in its own mutated copy of the pristine project."""
    copy = pristine.parent / f"file-mutant-{abs(hash(mutant.id))}"
    shutil.copytree(pristine, copy, ignore=shutil.ignore_patterns("mutants", ".kit-*"))
    try:
        (copy / mutant.activation.path).write_text(mutant.activation.source, encoding="utf-8")
        applied = Mutant(mutant.result, Activation(kind="none"), mutant.every_killer)
        return _session(copy, [applied], baseline, config, matrix=matrix, workers=1)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def execute(
    mutants: list[Mutant],
    workspace: pathlib.Path,
    pristine: pathlib.Path,
    baseline: Baseline,
    config: KitConfig,
    *,
    matrix: bool,
    progress: Progress,
) -> None:
    """Run every mutant that has covering tests; fill in status and killers in place.

    ``workspace`` is where in-process mutants run (mutmut's copy, or the
    pristine copy); ``file`` mutants run in mutated copies of ``pristine``.
    Mutants no test covers are ``no_tests`` without running.

    Raises
    ------
    ExecutorFailedError
        If a session fails before running its plan (a collection error).
    """
    runnable = [m for m in mutants if m.result.tests]
    for mutant in mutants:
        if not mutant.result.tests:
            mutant.result.status = "no_tests"
            mutant.result.detail = "no test of the baseline executes this function"
    live = [m for m in runnable if m.activation.kind != "file"]
    in_copies = [m for m in runnable if m.activation.kind == "file"]
    progress(
        f"executing {len(runnable)} mutants, {config.jobs} at a time"
        + (f" ({len(in_copies)} in mutated copies)" if in_copies else "")
    )
    records: dict[str, dict[str, object]] = {}
    with ExecutionProgress(progress, total=len(runnable)) as counter:
        if live:
            counter.watch(workspace / RECORDS_FILE)
            records.update(
                _session(workspace, live, baseline, config, matrix=matrix, workers=config.jobs)
            )
            counter.unwatch(workspace / RECORDS_FILE, counted=len(live))
        if in_copies:
            with concurrent.futures.ThreadPoolExecutor(max_workers=config.jobs) as pool:
                futures = [
                    pool.submit(_file_session, m, pristine, baseline, config, matrix=matrix)
                    for m in in_copies
                ]
                for future in futures:
                    found = result_of(future)
                    records.update(found)
                    counter.add(1)
    for mutant in runnable:
        record = records.get(mutant.id)
        if record is None:
            mutant.result.status = "error"
            mutant.result.detail = "the executor session ended before this mutant finished"
            continue
        _verdict(mutant, record)
