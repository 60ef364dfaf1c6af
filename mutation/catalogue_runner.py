"""Run the must-kill catalogue: each mutant in its own copy, tests to completion."""

from __future__ import annotations

import concurrent.futures
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Callable

from mutation.catalogue import CatalogueMutant, apply_mutant
from mutation.config import KitConfig
from mutation.locations import locate_in_diff, require_valid_locations
from mutation.pytest_runs import run_pytest
from mutation.results import MutantResult

Progress = Callable[[str], None]


def _module_name(file: str) -> str:
    return file.removesuffix(".py").replace("/", ".")


def _imports(workspace: pathlib.Path, module: str) -> str | None:
    """Return an error text if ``module`` fails to import in ``workspace``."""
    completed = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode == 0:
        return None
    lines = completed.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {completed.returncode}"


def replay_command(mutant_id: str) -> str:
    """Return the one-line command that re-runs a catalogue mutant and its killers."""
    return f".venv/bin/python -m mutation replay {mutant_id}"


def run_one(
    mutant: CatalogueMutant,
    pristine: pathlib.Path,
    scratch: pathlib.Path,
    config: KitConfig,
) -> MutantResult:
    """Apply ``mutant`` to a fresh copy of ``pristine`` and run the tests."""
    source = (pristine / mutant.file).read_text(encoding="utf-8")
    applied = apply_mutant(mutant, source)
    where = locate_in_diff(applied.diff, source, file=mutant.file)
    workspace = scratch / f"catalogue-{mutant.id}"
    shutil.copytree(pristine, workspace)
    try:
        (workspace / mutant.file).write_text(applied.mutated, encoding="utf-8")
        result = MutantResult(
            id=mutant.id,
            origin="catalogue",
            file=mutant.file,
            function=mutant.function,
            line_start=where.line_start,
            line_end=where.line_end,
            column_start=where.column_start,
            column_end=where.column_end,
            original=mutant.find,
            replacement=mutant.replace,
            diff=applied.diff,
            status="error",
            mutator="catalogue",
            claim=mutant.claim,
            must_kill=True,
            replay=replay_command(mutant.id),
        )
        require_valid_locations([result], lambda _: source)
        import_error = _imports(workspace, _module_name(mutant.file))
        if import_error is not None:
            result.detail = f"the mutated module does not import: {import_error}"
            return result
        run = run_pytest(workspace, list(config.tests), timeout=config.mutant_timeout)
        result.duration = round(run.duration, 3)
        result.killers = run.failures
        if run.outcome == "failed":
            result.status = "killed"
        elif run.outcome == "passed":
            result.status = "survived"
        elif run.outcome == "timeout":
            result.status = "timeout"
            result.detail = f"tests did not finish within {config.mutant_timeout:g} s"
        elif run.outcome == "no_tests":
            result.status = "no_tests"
        else:
            result.detail = "; ".join(f"{e.test}: {e.message}" for e in run.errors[:3]) or (
                run.output.strip().splitlines()[-1] if run.output.strip() else "pytest crashed"
            )
        return result
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def run_catalogue(
    mutants: list[CatalogueMutant],
    pristine: pathlib.Path,
    scratch: pathlib.Path,
    config: KitConfig,
    progress: Progress,
    previous_durations: dict[str, float] | None = None,
) -> list[MutantResult]:
    """Run every catalogue mutant, ``config.jobs`` at a time.

    Every entry is applied (checked) before any test runs, so an entry that
    no longer matches stops the run with its name before time is spent.
    Mutants start longest first by ``previous_durations`` (the last run's),
    so a slow one does not end up running alone at the end.
    """
    for mutant in mutants:
        apply_mutant(mutant, (pristine / mutant.file).read_text(encoding="utf-8"))
    durations = previous_durations or {}
    schedule = sorted(mutants, key=lambda m: -durations.get(m.id, 0.0))
    results: list[MutantResult] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=config.jobs) as pool:
        futures = {
            pool.submit(run_one, mutant, pristine, scratch, config): mutant for mutant in schedule
        }
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            result = future.result()
            results.append(result)
            progress(f"catalogue {done}/{len(mutants)}: {result.id} {result.status}")
    order = {mutant.id: index for index, mutant in enumerate(mutants)}
    return sorted(results, key=lambda r: order[r.id])
