"""``python -m mutation``: the cuprum mutation kit.

Commands: ``run`` (the kit: baseline, every mutant once, gates), ``merge``
(shard results into one), ``coverage`` (the coverage gate alone), ``check``
(the gates of the last results), ``baseline`` (record the ratchet) and
``replay`` (one catalogue or generated mutant against its killers).

Exit codes: 0 all gates pass; 1 a gate failed; 2 usage or configuration
error (including a catalogue entry that no longer applies); 3 stale or
invalid results; 4 the unmutated baseline failed or a tool broke; 130
interrupted (SIGINT or SIGTERM).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from mutation.baseline import Baseline, run_baseline
from mutation.baseline_shards import file_hints
from mutation.catalogue import load_catalogue
from mutation.catalogue_source import catalogue_mutants
from mutation.config import ConfigError, KitConfig, load_config
from mutation.execute import ExecutorFailedError, assign_tests, execute
from mutation.generated_source import generated_mutants
from mutation.locations import LocationError
from mutation.mutants import Mutant
from mutation.mutmut_source import MutmutFailedError
from mutation.processes import interruptible
from mutation.results import InvalidResultsError, Results, load_results, stale_inputs
from mutation.run import BaselineFailedError, command_run
from mutation.shards import command_merge
from mutation.summary import render_summary
from mutation.workspace import copy_project, scratch_directory

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_STALE, EXIT_BROKEN, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def _root() -> pathlib.Path:
    return pathlib.Path.cwd()


def command_coverage(args: argparse.Namespace) -> int:
    """Run the coverage gate alone; return the exit code."""
    del args
    config = load_config(_root())
    with interruptible(), scratch_directory() as scratch:
        copy_project(config.root, config.copy, scratch / "pristine")
        hints = file_hints(config.root / config.results)
        baseline = run_baseline(scratch / "pristine", config, hints)
    if not baseline.passed:
        raise BaselineFailedError(
            "the pathway tests fail; coverage not measured:\n" + baseline.output[-2000:]
        )
    failed = False
    for target, percent in baseline.coverage.items():
        ok = percent >= config.coverage_branch_min
        failed |= not ok
        print(
            f"[{'PASS' if ok else 'FAIL'}] coverage {target}: {percent:.2f}% "
            f"(>= {config.coverage_branch_min:g}% required)"
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


def _replay_mutant(config: KitConfig, ident: str) -> tuple[Mutant, list[str]]:
    """Return the catalogue or generated mutant ``ident`` and its named killers."""
    entries = {e.id: e for e in load_catalogue(config.root / config.catalogue, config.targets)}
    entry = entries.get(ident)
    if entry is not None:
        (mutant,) = catalogue_mutants([entry], config.root)
        return mutant, list(entry.killers)
    for mutant in generated_mutants(config.root, config.targets):
        if mutant.id == ident:
            return mutant, []
    raise ConfigError(
        f"no catalogue or generated mutant {ident!r}; catalogue: {', '.join(sorted(entries))}; "
        "generated ids are in the report (make mutate-report)"
    )


def command_replay(args: argparse.Namespace) -> int:
    """Replay one catalogue or generated mutant against its tests; return the exit code.

    A catalogue entry with named killers runs only them; otherwise the
    baseline picks the tests covering the mutant's function, and every
    killer is recorded.
    """
    config = load_config(_root())
    mutant, killers = _replay_mutant(config, args.mutant)
    with interruptible(), scratch_directory() as scratch:
        pristine = scratch / "pristine"
        copy_project(config.root, config.copy, pristine)
        if killers:
            # The named killers only; a generous limit stands in for their baseline.
            baseline = Baseline(True, [], dict.fromkeys(killers, 2.0), {}, {}, "")
            mutant.result.tests = killers
        else:
            baseline = run_baseline(pristine, config)
            if not baseline.passed:
                raise BaselineFailedError("the unmutated baseline does not pass")
            assign_tests([mutant], pristine, baseline, config)
        execute(
            [mutant], pristine, pristine, baseline, config, matrix=True, progress=lambda _: None
        )
    result = mutant.result
    print(result.diff)
    print(f"{result.id}: {result.status} {result.detail}".rstrip())
    for killer in result.killers:
        print(f"  killed by {killer.test}: {killer.message}")
    return EXIT_OK if result.status == "killed" else EXIT_GATE


def command_baseline(args: argparse.Namespace) -> int:
    """Record the last full run's per-module scores as the ratchet baseline."""
    del args
    from mutation.ratchet import update_baseline

    config = load_config(_root())
    results = _current_results(config, "record a baseline")
    try:
        scores = update_baseline(results, config.root / config.baseline)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for file, score in scores.items():
        print(f"baseline {file}: {score:.2%}")
    from mutation.report_trend import snapshot_path, write_snapshot

    snapshot = snapshot_path(config.root / config.baseline)
    print(f"baseline mutant outcomes: {write_snapshot(results, snapshot)} in {snapshot.name}")
    print(f"written to {config.baseline}; commit it (and {snapshot.name}) to make the ratchet bite")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (every command is listed by ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m mutation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="the kit: baseline, every mutant once, gates (make mutate)")
    run.add_argument("--since", metavar="REF", help="review mode: only functions changed since REF")
    run.add_argument(
        "--matrix", action="store_true", help="record every killing test, not the first"
    )
    run.add_argument("--jobs", type=int, help="parallel workers (default: setup.cfg)")
    run.add_argument("--force", action="store_true", help="re-run every mutant, re-using nothing")
    run.add_argument(
        "--skip-mutmut",
        action="store_true",
        help="catalogue and coverage gates only (a quick check)",
    )
    run.add_argument(
        "--skip-generated",
        action="store_true",
        help="leave out the generated operators' mutants (mutation/operators.py)",
    )
    run.add_argument(
        "--shard", metavar="K/N", help="run shard K of N and write a partial result (see merge)"
    )
    run.set_defaults(handler=command_run)
    merge = sub.add_parser(
        "merge", help="combine shard results into the result file, gates and reports"
    )
    merge.add_argument("files", nargs="+", metavar="FILE", help="shard-K-of-N.json files")
    merge.add_argument("--out", help="report directory (default: mutation/results/report)")
    merge.set_defaults(handler=command_merge)
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
        "replay",
        help="switch a catalogue or generated mutant on in a scratch copy and run its tests",
    )
    replay.add_argument("mutant")
    replay.set_defaults(handler=command_replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the kit's command line; return the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["report"]:
        # The report command keeps its own parser (mutation/report.py).
        from mutation.report import main as report_main

        return report_main(arguments[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
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
    except (BaselineFailedError, MutmutFailedError, ExecutorFailedError, LocationError) as exc:
        print(f"mutation kit: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    except KeyboardInterrupt:
        print(
            "mutation kit: interrupted; child processes killed, scratch copies removed, "
            "working tree untouched",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    raise SystemExit(main())
