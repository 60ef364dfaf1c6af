"""``python -m mutation``: run the kit, check gates, replay a mutant.

Exit codes: 0 all gates pass; 1 a gate failed; 2 usage or configuration
error (including a catalogue entry that no longer applies); 3 stale or
invalid results; 4 the unmutated baseline failed or a tool broke.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys
import time

from mutation.catalogue import load_catalogue
from mutation.catalogue_runner import run_catalogue, run_one
from mutation.config import ConfigError, KitConfig, load_config
from mutation.coverage_gate import run_coverage
from mutation.gates import evaluate, module_scores
from mutation.mutmut_runner import (
    MutmutFailedError,
    attribute_killers,
    collect_mutants,
    load_excused,
    run_mutmut,
)
from mutation.results import (
    RESULTS_SCHEMA,
    InvalidResultsError,
    MutantResult,
    Results,
    TestRecord,
    fingerprint,
    load_results,
    stale_inputs,
)
from mutation.summary import render_summary
from mutation.workspace import copy_project, scratch_directory

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_STALE, EXIT_BROKEN = 0, 1, 2, 3, 4


class BaselineFailedError(RuntimeError):
    """The unmutated project does not pass its own tests."""


class _Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.phases: dict[str, float] = {}

    def say(self, message: str) -> None:
        print(
            f"[{time.monotonic() - self.started:6.1f}s] {message}",
            file=sys.stderr,
            flush=True,
        )

    def phase(self, name: str, began: float) -> None:
        self.phases[name] = round(time.monotonic() - began, 2)


def _root() -> pathlib.Path:
    return pathlib.Path.cwd()


def _apply_excuses(
    mutants: list[MutantResult], excused: dict[str, tuple[str, str]], path: str
) -> None:
    by_id = {m.id: m for m in mutants}
    for ident, (reason, contains) in excused.items():
        mutant = by_id.get(ident)
        if mutant is None:
            msg = f"{path}: excused mutant {ident!r} does not exist (mutmut renumbers mutants when code changes); re-check it"
            raise ConfigError(msg)
        if contains and contains not in mutant.diff:
            msg = f"{path}: excused mutant {ident!r} no longer has the diff it was excused for ({contains!r}); re-check it"
            raise ConfigError(msg)
        if mutant.status in ("survived", "timeout", "no_tests"):
            mutant.status = "excused"
            mutant.excuse = reason


def _test_records(mutants: list[MutantResult]) -> list[TestRecord]:
    kills: dict[str, int] = {}
    sole: dict[str, int] = {}
    for mutant in mutants:
        for killer in mutant.killers:
            kills[killer.test] = kills.get(killer.test, 0) + 1
        if len(mutant.killers) == 1:
            sole[mutant.killers[0].test] = sole.get(mutant.killers[0].test, 0) + 1
    return [
        TestRecord(test=t, file=t.split("::")[0], kills=kills[t], sole_kills=sole.get(t, 0))
        for t in sorted(kills)
    ]


def _previous_durations(path: pathlib.Path) -> dict[str, float]:
    """Each catalogue mutant's duration in the last run (for scheduling only)."""
    try:
        previous = load_results(path)
    except InvalidResultsError:
        return {}
    return {m.id: m.duration for m in previous.mutants if m.origin == "catalogue"}


def _mangled(function: str) -> str:
    """Return mutmut 3's mangled name of a function or ``Class.method``."""
    if "." in function:
        return "xǁ" + "ǁ".join(function.split("."))
    return f"x_{function}"


def _selection(config: KitConfig, since: str | None) -> dict[str, set[str]] | None:
    if since is None:
        return None
    from mutation.changed import changed_functions

    try:
        return changed_functions(config.root, since, list(config.targets))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _ratchet(config: KitConfig, results: Results) -> None:
    path = config.root / config.baseline
    if not path.exists():
        return
    from mutation.ratchet import load_baseline, ratchet_verdicts

    results.gates.extend(ratchet_verdicts(results, load_baseline(path)))


def command_run(args: argparse.Namespace) -> int:
    """Run the kit (``make mutate``); return the exit code."""
    root = _root()
    config = load_config(root)
    if args.jobs:
        config = KitConfig(**{**config.__dict__, "jobs": args.jobs})
    catalogue = load_catalogue(root / config.catalogue, config.targets)
    excused = load_excused(root / config.excused)
    inputs, digest = fingerprint(root, config.input_groups())
    results_path = root / config.results
    clock = _Clock()
    selected = _selection(config, args.since)
    selection_key = sorted(f"{f}:{fn}" for f, fns in (selected or {}).items() for fn in fns)
    if selected is not None:
        if not selection_key:
            print(f"no target function changed since {args.since}: nothing to mutate; passing")
            return EXIT_OK
        catalogue = [m for m in catalogue if m.function in selected.get(m.file, set())]
        clock.say(
            f"review mode: {len(selection_key)} changed functions: {', '.join(selection_key)}"
        )
    if results_path.exists() and not args.force and selected is None:
        try:
            previous = load_results(results_path)
        except InvalidResultsError:
            previous = None
        if (
            previous is not None
            and previous.inputs_digest == digest
            and not previous.selection
            and ("mutmut" in previous.phases or args.skip_mutmut)
        ):
            clock.say(
                "inputs unchanged since the last run: re-using its results (use --force to re-run)"
            )
            print(render_summary(previous))
            return EXIT_OK if previous.passed else EXIT_GATE
    with scratch_directory() as scratch:
        pristine = scratch / "pristine"
        began = time.monotonic()
        copy_project(root, config.copy, pristine)
        clock.say(
            f"baseline + coverage: running {len(config.tests)} test files on the unmutated copy"
        )
        baseline, coverage = run_coverage(pristine, config)
        clock.phase("baseline+coverage", began)
        if baseline.outcome != "passed":
            failing = baseline.failures + baseline.errors
            detail = (
                "\n".join(f"  {k.test}: {k.message}" for k in failing[:10])
                or baseline.output[-2000:]
            )
            raise BaselineFailedError(
                f"the unmutated baseline does not pass; nothing is reported:\n{detail}"
            )
        clock.say(
            f"baseline passed ({baseline.passed} tests); coverage "
            + ", ".join(f"{t} {p:.1f}%" for t, p in coverage.items())
        )
        began = time.monotonic()
        catalogue_results = run_catalogue(
            catalogue, pristine, scratch, config, clock.say, _previous_durations(results_path)
        )
        clock.phase("catalogue", began)
        if args.skip_mutmut:
            clock.say("mutmut skipped (--skip-mutmut): catalogue and coverage gates only")
            mutants = catalogue_results
            results = _assemble(config, inputs, digest, clock, mutants, coverage, selection_key)
            results.gates = [
                g for g in results.gates if not g.name.startswith(("mutmut", "survivors"))
            ]
            return _finish(config, results, root, ratchet=False)
        began = time.monotonic()
        only = None
        if selected is not None:
            only = [
                f"{f.removesuffix('.py').replace('/', '.')}.{_mangled(fn)}__mutmut_*"
                for f, fns in selected.items()
                for fn in fns
            ]
        workspace = run_mutmut(pristine, scratch, config, clock.say, only=only)
        mutmut_results, tests_by_mutant = collect_mutants(workspace, pristine)
        if selected is not None:
            for m in mutmut_results:
                if m.function not in selected.get(m.file, set()):
                    m.status = "not_run"
        clock.phase("mutmut", began)
        began = time.monotonic()
        attribute_killers(
            workspace,
            mutmut_results,
            tests_by_mutant,
            config,
            matrix=args.matrix,
            progress=clock.say,
        )
        clock.phase("attribution", began)
    mutants = catalogue_results + mutmut_results
    _apply_excuses(mutmut_results, excused, config.excused)
    results = _assemble(config, inputs, digest, clock, mutants, coverage, selection_key)
    return _finish(config, results, root, ratchet=selected is None)


def _assemble(
    config: KitConfig,
    inputs: dict[str, dict[str, str]],
    digest: str,
    clock: _Clock,
    mutants: list[MutantResult],
    coverage: dict[str, float],
    selection_key: list[str],
) -> Results:
    scores = module_scores(mutants, config)
    return Results(
        schema=RESULTS_SCHEMA,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs=inputs,
        inputs_digest=digest,
        phases=clock.phases,
        modules=scores,
        mutants=mutants,
        tests=_test_records(mutants),
        coverage=coverage,
        gates=evaluate(config, mutants, scores, coverage),
        selection=selection_key,
    )


REVIEW_RESULTS_NAME = "review.json"
"""File name, beside the main result file, of a ``--since`` review run."""


def _finish(config: KitConfig, results: Results, root: pathlib.Path, *, ratchet: bool) -> int:
    if ratchet:
        _ratchet(config, results)
    results_path = root / config.results
    if results.selection:
        # A review run must not replace the full run's results.
        results_path = results_path.with_name(REVIEW_RESULTS_NAME)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(results.to_json(), encoding="utf-8")
    if results.selection:
        from mutation.report_markdown import render_markdown

        print(render_markdown(results, stale=[], root=root))
        print(f"results: {results_path.relative_to(root)}")
        return EXIT_OK if results.passed else EXIT_GATE
    print(render_summary(results))
    print(f"results: {config.results}; reports: make mutate-report")
    return EXIT_OK if results.passed else EXIT_GATE


def command_coverage(args: argparse.Namespace) -> int:
    """Run the coverage gate alone; return the exit code."""
    del args
    root = _root()
    config = load_config(root)
    with scratch_directory() as scratch:
        copy_project(root, config.copy, scratch / "pristine")
        run, coverage = run_coverage(scratch / "pristine", config)
    if run.outcome != "passed":
        raise BaselineFailedError(
            "the pathway tests fail; coverage not measured:\n" + run.output[-2000:]
        )
    failed = False
    for target, percent in coverage.items():
        ok = percent >= config.coverage_branch_min
        failed |= not ok
        print(
            f"[{'PASS' if ok else 'FAIL'}] coverage {target}: {percent:.2f}% (>= {config.coverage_branch_min:g}% required)"
        )
    return EXIT_GATE if failed else EXIT_OK


def _current_results(config: KitConfig, purpose: str) -> Results:
    """Load the last full run's results, refusing them if any input changed."""
    results = load_results(config.root / config.results)
    changed = stale_inputs(results, config.root, config.input_groups())
    if changed:
        raise InvalidResultsError(
            f"refusing to {purpose}: the results are stale; these inputs changed "
            f"since they were computed: {', '.join(changed)}. Run `make mutate`."
        )
    return results


def command_check(args: argparse.Namespace) -> int:
    """Re-evaluate the last results, refusing stale ones; return the exit code."""
    del args
    results = _current_results(load_config(_root()), "check the gates")
    print(render_summary(results))
    return EXIT_OK if results.passed else EXIT_GATE


def command_replay(args: argparse.Namespace) -> int:
    """Replay one catalogue mutant against its killers; return the exit code."""
    root = _root()
    config = load_config(root)
    catalogue = {m.id: m for m in load_catalogue(root / config.catalogue, config.targets)}
    mutant = catalogue.get(args.mutant)
    if mutant is None:
        raise ConfigError(
            f"no catalogue mutant {args.mutant!r}; known: {', '.join(sorted(catalogue))}"
        )
    with scratch_directory() as scratch:
        pristine = scratch / "pristine"
        copy_project(root, config.copy, pristine)
        tests = list(mutant.killers) or list(config.tests)
        replay_config = KitConfig(**{**config.__dict__, "tests": tuple(tests)})
        result = run_one(mutant, pristine, scratch, replay_config)
    print(result.diff)
    print(f"{mutant.id}: {result.status}")
    for killer in result.killers:
        print(f"  killed by {killer.test}: {killer.message}")
    return EXIT_OK if result.status == "killed" else EXIT_GATE


def command_baseline(args: argparse.Namespace) -> int:
    """Record the last full run's per-module scores as the ratchet baseline."""
    del args
    from mutation.ratchet import update_baseline

    root = _root()
    config = load_config(root)
    results = _current_results(config, "record a baseline")
    try:
        scores = update_baseline(results, root / config.baseline)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for file, score in scores.items():
        print(f"baseline {file}: {score:.2%}")
    from mutation.report_trend import snapshot_path, write_snapshot

    snapshot = snapshot_path(root / config.baseline)
    print(f"baseline mutant outcomes: {write_snapshot(results, snapshot)} in {snapshot.name}")
    print(f"written to {config.baseline}; commit it (and {snapshot.name}) to make the ratchet bite")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the kit's command line; return the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["report"]:
        # The report command keeps its own parser (mutation/report.py).
        from mutation.report import main as report_main

        return report_main(arguments[1:])
    parser = argparse.ArgumentParser(
        prog="python -m mutation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="mutmut + catalogue + gates (make mutate)")
    run.add_argument("--since", metavar="REF", help="review mode: only functions changed since REF")
    run.add_argument(
        "--matrix", action="store_true", help="record every killing test, not the first"
    )
    run.add_argument("--jobs", type=int, help="parallel workers (default: setup.cfg)")
    run.add_argument("--force", action="store_true", help="re-run even if the inputs are unchanged")
    run.add_argument(
        "--skip-mutmut",
        action="store_true",
        help="catalogue and coverage gates only (a quick check)",
    )
    run.set_defaults(handler=command_run)
    sub.add_parser("coverage", help="the coverage gate alone").set_defaults(
        handler=command_coverage
    )
    sub.add_parser("check", help="gates of the last results; refuses stale ones").set_defaults(
        handler=command_check
    )
    sub.add_parser(
        "baseline", help="record the last run's scores as the ratchet baseline"
    ).set_defaults(handler=command_baseline)
    sub.add_parser("report", help="Markdown, JSON and HTML reports; --annotations (see its --help)")
    replay = sub.add_parser(
        "replay", help="apply a catalogue mutant in a scratch copy and run its killers"
    )
    replay.add_argument("mutant")
    replay.set_defaults(handler=command_replay)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"mutation kit: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidResultsError as exc:
        print(f"mutation kit: {exc}", file=sys.stderr)
        return EXIT_STALE
    except (BaselineFailedError, MutmutFailedError) as exc:
        print(f"mutation kit: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except KeyboardInterrupt:
        print(
            "mutation kit: interrupted; scratch copies removed, working tree untouched",
            file=sys.stderr,
        )
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
