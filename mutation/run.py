"""``python -m mutation run``: config -> discover -> execute -> results -> gates -> report.

1. Copy the project to a scratch directory (the working tree is never
   written, except the result file at the end).
2. In parallel: the unmutated baseline under per-test coverage, and
   discovery (mutmut's generator writing its trampolined copy). The
   catalogue's and the generated operators' mutants are listed before,
   in the working tree (read only), so a stale entry or excuse stops the
   run before any test runs.
3. Each mutant gets the tests covering its function and a key; unchanged
   keys re-use the last run's verdict; a shard keeps its part.
4. One executor session runs the rest, each mutant once.
5. Excuses, gates, the ratchet, the result file and the summary.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import pathlib
import time

from mutation.assemble import (
    Clock,
    apply_excuses,
    assemble,
    canonical_order,
    check_mutmut_excuses,
    test_records,
    write_results,
)
from mutation.baseline import Baseline, run_baseline
from mutation.baseline_shards import file_hints, shard_count
from mutation.catalogue import load_catalogue
from mutation.catalogue_source import catalogue_mutants
from mutation.config import ConfigError, KitConfig, load_config
from mutation.execute import assign_tests, execute
from mutation.generated_excuses import (
    apply_generated_excuses,
    check_excuses,
    load_generated_excuses,
)
from mutation.generated_source import generated_mutants
from mutation.incremental import assign_keys, reuse
from mutation.killer_hints import killer_hints, put_killers_first
from mutation.mutants import Mutant
from mutation.mutmut_source import generate, load_excused
from mutation.processes import interruptible, result_of
from mutation.report_trend import snapshot_path
from mutation.results import (
    RESULTS_SCHEMA,
    InvalidResultsError,
    MutantResult,
    Results,
    fingerprint,
    load_results,
)
from mutation.review_scope import ReviewScope, excuses_of, review_scope
from mutation.shards import Shard, parse_shard, shard_path, take_shard
from mutation.summary import render_summary
from mutation.workspace import copy_project, scratch_directory

EXIT_OK, EXIT_GATE = 0, 1
REVIEW_RESULTS_NAME = "review.json"
"""File name, beside the main result file, of a ``--since`` review run."""


class BaselineFailedError(RuntimeError):
    """The unmutated project does not pass its own tests."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What ``run`` was asked to do."""

    since: str | None = None
    matrix: bool = False
    force: bool = False
    skip_mutmut: bool = False
    skip_generated: bool = False
    shard: Shard | None = None


def _selection(config: KitConfig, since: str | None) -> dict[str, set[str]] | None:
    if since is None:
        return None
    from mutation.changed import changed_functions

    try:
        return changed_functions(config.root, since, list(config.targets))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _previous(path: pathlib.Path) -> Results | None:
    try:
        return load_results(path)
    except InvalidResultsError:
        return None


def _baseline_failed(baseline: Baseline) -> BaselineFailedError:
    detail = "\n".join(f"  {k.test}: {k.message}" for k in baseline.failures[:10])
    return BaselineFailedError(
        "the unmutated baseline does not pass; nothing is reported:\n"
        + (detail or baseline.output[-2000:])
    )


@dataclasses.dataclass(frozen=True)
class Review:
    """A review run's narrowing: its changed functions and its baseline's tests."""

    functions: dict[str, set[str]]
    scope: ReviewScope

    @property
    def files(self) -> list[str]:
        """The target files with a changed function (the only ones mutated)."""
        return sorted(file for file, names in self.functions.items() if names)


def _review(
    config: KitConfig,
    options: RunOptions,
    selected: dict[str, set[str]] | None,
    previous: Results | None,
    inputs: dict[str, dict[str, str]],
) -> Review | None:
    if selected is None or options.since is None:
        return None
    return Review(selected, review_scope(config, options.since, selected, previous, inputs))


def _hints(config: KitConfig, review: Review | None, previous: Results | None) -> dict[str, float]:
    """Return the seconds in the last run of what this baseline runs, to balance its shards.

    Per test file for a whole baseline; per test (and per changed test file)
    for a narrowed review.
    """
    if previous is None:  # a forced run still balances by the last file, if any
        return file_hints(config.root / config.results)
    chosen = set(review.scope.tests) if review and review.scope.tests else None
    hints: dict[str, float] = {}
    for record in previous.tests:
        if chosen is None or record.file in chosen:
            hints[record.file] = hints.get(record.file, 0.0) + record.duration
        elif record.test in chosen:
            hints[record.test] = record.duration
    return hints


def _discover_and_baseline(
    pristine: pathlib.Path,
    config: KitConfig,
    options: RunOptions,
    clock: Clock,
    review: Review | None,
    hints: dict[str, float],
) -> tuple[Baseline, pathlib.Path, list[Mutant]]:
    """Run the baseline and mutmut's generator side by side."""
    began = time.monotonic()
    only = review.scope.tests if review else None
    files = len({t.split("::")[0] for t in only}) if only else len(config.tests)
    what = f"{len(only)} tests of {files} test files" if only else f"{files} test files"
    processes = shard_count(only or list(config.tests), hints, config.jobs)
    clock.say(f"baseline + per-test coverage of {what} in {processes} processes; discovery")
    if review is not None:
        clock.say(
            "review baseline: "
            + (review.scope.reason if only else f"the whole suite ({review.scope.reason})")
        )
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        baseline_future = pool.submit(
            run_baseline,
            pristine,
            config,
            hints,
            only=only,
            functions=review.functions if only and review else None,
        )
        generated = (
            None
            if options.skip_mutmut
            else pool.submit(generate, pristine, config.jobs, review.files if review else None)
        )
        baseline = result_of(baseline_future)
        workspace, mutants = result_of(generated) if generated else (pristine, [])
    clock.phase("baseline+discovery", began)
    if not baseline.passed:
        raise _baseline_failed(baseline)
    clock.say(
        f"baseline passed ({len(baseline.durations)} tests); coverage "
        + ", ".join(f"{t} {p:.1f}%" for t, p in baseline.coverage.items())
    )
    return baseline, workspace, mutants


def set_aside_excused(mutants: list[Mutant], excused: set[str]) -> list[Mutant]:
    """Return the mutants to execute: every one but the excused.

    An excused mutant is an equivalent one, with a written reason (the
    excuse's diff is still checked against it when the results are
    assembled). No test can kill it, so executing it would only spend its
    covering tests' time: about 40 s of worker time for a function that every
    pathway test runs. It is recorded as a survivor that was not executed,
    which the excuse then turns into ``excused``.
    """
    kept: list[Mutant] = []
    for mutant in mutants:
        if mutant.origin != "catalogue" and mutant.id in excused:
            mutant.result.status = "survived"
            mutant.result.detail = "not executed: excused as an equivalent mutant"
        else:
            kept.append(mutant)
    return kept


def run(config: KitConfig, options: RunOptions) -> int:
    """Run the kit; return the exit code (0 pass, 1 a gate failed)."""
    root = config.root
    entries = load_catalogue(root / config.catalogue, config.targets)
    excused = load_excused(root / config.excused)
    generated_excused = load_generated_excuses(root / config.excused)
    inputs, digest = fingerprint(root, config.input_groups())
    results_path = root / config.results
    clock = Clock()
    selected = _selection(config, options.since)
    selection_key = sorted(f"{f}:{fn}" for f, fns in (selected or {}).items() for fn in fns)
    if selected is not None:
        if not selection_key:
            print(f"no target function changed since {options.since}: nothing to mutate; passing")
            return EXIT_OK
        clock.say(
            f"review mode: {len(selection_key)} changed functions: {', '.join(selection_key)}"
        )
    previous = None if options.force else _previous(results_path)
    if (
        previous is not None
        and previous.inputs_digest == digest
        and not previous.selection
        and selected is None
        and options.shard is None
        and (options.skip_mutmut or any(m.origin == "mutmut" for m in previous.mutants))
        and (options.skip_generated or any(m.origin == "generated" for m in previous.mutants))
    ):
        clock.say(
            "inputs unchanged since the last run: re-using its results (use --force to re-run)"
        )
        print(render_summary(previous))
        return EXIT_OK if previous.passed else EXIT_GATE
    review = _review(config, options, selected, previous, inputs)
    if review is not None:
        excused = excuses_of(excused, review.files)
        generated_excused = excuses_of(generated_excused, review.files)
    # Every entry must still apply before any test runs (read-only, in the tree).
    catalogue = catalogue_mutants(entries, root)
    if review is not None and not options.matrix:
        # A review's verdict needs one killer each; the full run attributes.
        catalogue = [dataclasses.replace(m, every_killer=False) for m in catalogue]
    mutated = review.files if review else list(config.targets)
    generated = [] if options.skip_generated else generated_mutants(root, mutated)
    if generated:
        check_excuses(generated_excused, [m.result for m in generated], config.excused)
    with interruptible(), scratch_directory() as scratch:
        pristine = scratch / "pristine"
        copy_project(root, config.copy, pristine)
        baseline, workspace, from_mutmut = _discover_and_baseline(
            pristine, config, options, clock, review, _hints(config, review, previous)
        )
        mutants = catalogue + from_mutmut + generated
        if from_mutmut:
            # Before any mutant runs: a stale excuse must not cost a whole run.
            check_mutmut_excuses([m.result for m in from_mutmut], excused, config.excused)
        assign_tests(mutants, pristine, baseline, config)
        hints = killer_hints(previous, results_path, snapshot_path(root / config.baseline))
        hinted = put_killers_first(mutants, hints, [e.id for e in entries])
        assign_keys(mutants, pristine, inputs, config, matrix=options.matrix)
        if options.shard is not None:
            mutants = take_shard(mutants, options.shard)
        chosen = [
            m
            for m in mutants
            if selected is None or m.result.function in selected.get(m.result.file, set())
        ]
        to_run = reuse(chosen, previous.mutants) if previous is not None else chosen
        reused = len(chosen) - len(to_run)
        to_run = set_aside_excused(to_run, {*excused, *generated_excused})
        set_aside = len(chosen) - reused - len(to_run)
        clock.say(
            f"{len(mutants)} mutants; {len(chosen)} selected; "
            f"{reused} re-used unchanged from the last run"
            + (f"; {set_aside} excused, not executed" if set_aside else "")
            + (f"; {hinted} start with their last known killer" if hinted else "")
        )
        began = time.monotonic()
        execute(
            to_run, workspace, pristine, baseline, config, matrix=options.matrix, progress=clock.say
        )
        clock.phase("execute", began)
    catalogue_ids = [e.id for e in entries]
    chosen_ids = {m.id for m in chosen}
    # A review run lists mutmut's and the generated operators' other mutants
    # as not_run; catalogue entries of unchanged functions are left out.
    kept = [m for m in mutants if m.id in chosen_ids or m.origin != "catalogue"]
    results = canonical_order([m.result for m in kept], catalogue_ids)
    if options.shard is not None:
        return _finish_shard(config, options.shard, inputs, digest, clock, results, baseline)
    if any(m.origin == "mutmut" for m in results):
        apply_excuses(results, excused, config.excused)
    apply_generated_excuses(results, generated_excused)
    assembled = assemble(
        config,
        inputs=inputs,
        digest=digest,
        phases=clock.phases,
        mutants=results,
        coverage=baseline.coverage,
        durations=baseline.durations,
        selection=selection_key,
        ratchet=selected is None,
    )
    return _finish(assembled, root, results_path)


def _finish_shard(
    config: KitConfig,
    shard: Shard,
    inputs: dict[str, dict[str, str]],
    digest: str,
    clock: Clock,
    mutants: list[MutantResult],
    baseline: Baseline,
) -> int:
    results = Results(
        schema=RESULTS_SCHEMA,
        created="",
        inputs=inputs,
        inputs_digest=digest,
        phases=clock.phases,
        modules=[],
        mutants=mutants,
        tests=[],
        coverage=baseline.coverage,
        gates=[],
        shard=f"{shard.index}/{shard.count}",
    )
    results.tests = test_records(results.mutants, baseline.durations)
    path = shard_path(config.root / config.results, shard)
    write_results(results, path)
    print(f"shard {shard.index}/{shard.count}: {len(mutants)} mutants; partial result: {path}")
    return EXIT_OK


def _finish(results: Results, root: pathlib.Path, results_path: pathlib.Path) -> int:
    if results.selection:
        # A review run must not replace the full run's results.
        results_path = results_path.with_name(REVIEW_RESULTS_NAME)
    write_results(results, results_path)
    if results.selection:
        from mutation.report_markdown import render_markdown

        print(render_markdown(results, stale=[], root=root))
        print(f"results: {results_path.relative_to(root)}")
    else:
        print(render_summary(results))
        print(f"results: {results_path.relative_to(root)}; reports: make mutate-report")
    return EXIT_OK if results.passed else EXIT_GATE


def command_run(args: argparse.Namespace) -> int:
    """Run the kit (``make mutate``); return the exit code."""
    config = load_config(pathlib.Path.cwd())
    if args.jobs:
        config = dataclasses.replace(config, jobs=args.jobs)
    options = RunOptions(
        since=args.since,
        matrix=args.matrix,
        force=args.force,
        skip_mutmut=args.skip_mutmut,
        skip_generated=args.skip_generated,
        shard=parse_shard(args.shard) if args.shard else None,
    )
    if options.shard is not None and options.since is not None:
        raise ConfigError("--shard and --since cannot be combined: shard full runs only")
    return run(config, options)
