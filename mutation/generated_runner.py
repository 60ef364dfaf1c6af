"""Run generated mutants: each applied in a scratch copy of the project.

This is the seam an executor calls: :func:`discover_generated` lists the
mutants of the targets, :func:`run_generated` runs any of them and returns
:class:`~mutation.results.MutantResult` records (origin ``generated``,
mutator = operator name). Neither ever writes to the user's tree: mutants are
applied only inside copies of the pristine workspace.
"""

from __future__ import annotations

import concurrent.futures
import pathlib
import queue
import shutil
from collections.abc import Callable, Iterable

from mutation.operators import GeneratedMutant, generate_mutants
from mutation.pytest_runs import TestRun, run_pytest
from mutation.results import MutantResult, Status

Progress = Callable[[str], None]


def discover_generated(root: pathlib.Path, targets: Iterable[str]) -> list[GeneratedMutant]:
    """Generate the mutants of every target file under ``root``, in target order."""
    mutants: list[GeneratedMutant] = []
    for target in targets:
        mutants.extend(generate_mutants((root / target).read_text(encoding="utf-8"), target))
    return mutants


def replay_command(mutant_id: str) -> str:
    """Return the one-line command that re-runs one generated mutant."""
    return f".venv/bin/python -m mutation.generated replay {mutant_id}"


def _status(run: TestRun, timeout: float) -> tuple[Status, str]:
    """Map a test run to a mutant status and a detail line."""
    if run.outcome == "failed":
        return "killed", ""
    if run.outcome == "passed":
        return "survived", ""
    if run.outcome == "timeout":
        return "timeout", f"tests did not finish within {timeout:g} s"
    if run.outcome == "no_tests":
        return "no_tests", ""
    detail = "; ".join(f"{e.test}: {e.message}" for e in run.errors[:3])
    if not detail:
        lines = run.output.strip().splitlines()
        detail = lines[-1] if lines else "pytest crashed"
    return "error", detail


def result_for(mutant: GeneratedMutant) -> MutantResult:
    """Return a not-yet-run result record describing ``mutant``."""
    return MutantResult(
        id=mutant.id,
        origin="generated",
        file=mutant.file,
        function=mutant.function,
        line_start=mutant.line_start,
        line_end=mutant.line_end,
        original=mutant.original,
        replacement=mutant.replacement,
        diff=mutant.diff,
        status="not_run",
        mutator=mutant.operator,
        replay=replay_command(mutant.id),
        column_start=mutant.column_start,
        column_end=mutant.column_end,
    )


def run_in_workspace(
    mutant: GeneratedMutant,
    workspace: pathlib.Path,
    tests: list[str],
    *,
    timeout: float,
    stop_first: bool = True,
) -> MutantResult:
    """Apply ``mutant`` in ``workspace`` (a project copy), run ``tests``, restore the file.

    The file is restored even if the run is interrupted, so a workspace can
    serve the next mutant. With ``stop_first`` (see :func:`run_generated`)
    the run ends at the first failing test.
    """
    path = workspace / mutant.file
    original = path.read_bytes()
    result = result_for(mutant)
    try:
        path.write_text(mutant.mutated, encoding="utf-8")
        run = run_pytest(workspace, tests, timeout=timeout, stop_first=stop_first)
    finally:
        path.write_bytes(original)
    result.status, result.detail = _status(run, timeout)
    result.duration = round(run.duration, 3)
    result.killers = run.failures
    return result


def run_generated(
    mutants: list[GeneratedMutant],
    pristine: pathlib.Path,
    scratch: pathlib.Path,
    tests: list[str],
    *,
    timeout: float,
    jobs: int,
    progress: Progress,
    stop_first: bool = True,
) -> list[MutantResult]:
    """Run every mutant against ``tests``, ``jobs`` at a time.

    Parameters
    ----------
    mutants
        From :func:`discover_generated` (or a selection of them).
    pristine
        An unmutated copy of the project; it is never written to.
    scratch
        A directory for the workers' copies (removed here afterwards).
    tests
        Test files or node ids run, to completion, against each mutant.
    timeout
        Seconds one mutant's test run may take.
    jobs
        Parallel workers; each has its own copy of ``pristine``.
    progress
        Receives one line per finished mutant.
    stop_first
        End each run at the first failing test (the default). One failing
        test kills a mutant, and a mutant that hangs the pathway (a
        descriptor left open, so a stage never sees EOF) then costs one
        test's time limit instead of every test's, which would exceed the
        run's timeout and leave it unkilled. ``False`` lists every killer.

    Returns
    -------
    list[MutantResult]
        In the order of ``mutants``.
    """
    workers = max(1, min(jobs, len(mutants)))
    free: queue.Queue[pathlib.Path] = queue.Queue()
    for index in range(workers):
        copy = scratch / f"generated-{index}"
        shutil.copytree(pristine, copy)
        free.put(copy)

    def task(mutant: GeneratedMutant) -> MutantResult:
        workspace = free.get()
        try:
            return run_in_workspace(
                mutant, workspace, tests, timeout=timeout, stop_first=stop_first
            )
        finally:
            free.put(workspace)

    results: dict[str, MutantResult] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(task, mutant) for mutant in mutants]
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                result = future.result()
                results[result.id] = result
                progress(f"generated {done}/{len(mutants)}: {result.id} {result.status}")
    finally:
        for index in range(workers):
            shutil.rmtree(scratch / f"generated-{index}", ignore_errors=True)
    return [results[mutant.id] for mutant in mutants]
