"""``python -m mutation.generated``: the generated operators on their own.

Lists, shows, runs and replays the mutants of ``mutation/operators.py`` for
the kit's targets, with the per-module ``generated score`` gate. ``run``
writes ``mutation/results/generated.json`` (the main run's result file is
left alone).

Exit codes: 0 all gates pass (or the replayed mutant is killed); 1 a gate
failed (or the replayed mutant survives); 2 usage or configuration error;
4 the unmutated baseline failed, or a mutant's recorded location is wrong.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys
import time

from mutation.config import ConfigError, KitConfig, load_config
from mutation.generated_gate import (
    apply_generated_excuses,
    check_excuses,
    generated_scores,
    generated_verdicts,
    load_generated_excuses,
)
from mutation.generated_runner import discover_generated, run_generated, run_in_workspace
from mutation.locations import LocationError, require_valid_locations
from mutation.operators import OPERATORS, GeneratedMutant
from mutation.pytest_runs import run_pytest
from mutation.results import RESULTS_SCHEMA, Results, fingerprint
from mutation.summary import render_summary
from mutation.workspace import copy_project, scratch_directory

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_BROKEN = 0, 1, 2, 4
RESULTS_NAME = "generated.json"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _select(
    config: KitConfig,
    targets: list[str] | None,
    operators: list[str] | None,
    functions: list[str] | None = None,
) -> tuple[list[GeneratedMutant], list[GeneratedMutant]]:
    """Return (every mutant of every target, the selected ones)."""
    for target in targets or []:
        if target not in config.targets:
            msg = f"{target!r} is not a mutation target ({', '.join(config.targets)})"
            raise ConfigError(msg)
    every = discover_generated(config.root, config.targets)
    chosen = [
        m
        for m in every
        if (not targets or m.file in targets)
        and (not operators or m.operator in operators)
        and (not functions or m.function in functions)
    ]
    if functions and not chosen:
        msg = f"no generated mutant in function(s) {', '.join(functions)} of the selection"
        raise ConfigError(msg)
    return every, chosen


def _find(config: KitConfig, ident: str) -> GeneratedMutant:
    every = discover_generated(config.root, config.targets)
    for mutant in every:
        if mutant.id == ident:
            return mutant
    msg = f"no generated mutant {ident!r}; list them with `python -m mutation.generated list`"
    raise ConfigError(msg)


def command_list(args: argparse.Namespace) -> int:
    """Print every selected mutant, one a line."""
    config = load_config(pathlib.Path.cwd())
    _, chosen = _select(config, args.target, args.operator, args.function)
    for m in chosen:
        print(f"{m.id}  {m.file}:{m.line_start}:{m.column_start}  {m.original.splitlines()[0]}")
    print(f"{len(chosen)} generated mutants", file=sys.stderr)
    return EXIT_OK


def command_show(args: argparse.Namespace) -> int:
    """Print one mutant's diff."""
    mutant = _find(load_config(pathlib.Path.cwd()), args.mutant)
    print(f"{mutant.id} ({mutant.operator}) in {mutant.function}")
    print(mutant.diff, end="")
    return EXIT_OK


def command_run(args: argparse.Namespace) -> int:
    """Run the selected mutants and the gate; return the exit code."""
    root = pathlib.Path.cwd()
    config = load_config(root)
    excuses = load_generated_excuses(root / config.excused)
    every, chosen = _select(config, args.target, args.operator, args.function)
    check_excuses(excuses, every, config.excused)
    inputs, digest = fingerprint(root, config.input_groups())
    phases: dict[str, float] = {}
    with scratch_directory() as scratch:
        pristine = scratch / "pristine"
        copy_project(root, config.copy, pristine)
        began = time.monotonic()
        _say(f"baseline: running {len(config.tests)} test files on the unmutated copy")
        baseline = run_pytest(pristine, list(config.tests), timeout=config.mutant_timeout)
        phases["baseline"] = round(time.monotonic() - began, 2)
        if baseline.outcome != "passed":
            failing = baseline.failures + baseline.errors
            detail = "\n".join(f"  {k.test}: {k.message}" for k in failing[:10])
            _say(f"mutation kit: the unmutated baseline does not pass:\n{detail}")
            return EXIT_BROKEN
        began = time.monotonic()
        jobs = args.jobs or config.jobs
        _say(f"generated: {len(chosen)} mutants, {jobs} at a time")
        results = run_generated(
            chosen,
            pristine,
            scratch,
            list(config.tests),
            timeout=config.mutant_timeout,
            jobs=jobs,
            progress=_say,
        )
        phases["generated"] = round(time.monotonic() - began, 2)
    apply_generated_excuses(results, excuses)
    require_valid_locations(results, lambda file: (root / file).read_text(encoding="utf-8"))
    targets = [t for t in config.targets if not args.target or t in args.target]
    scores = generated_scores(results, targets, config.generated_score_min)
    report = Results(
        schema=RESULTS_SCHEMA,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs=inputs,
        inputs_digest=digest,
        phases=phases,
        modules=scores,
        mutants=results,
        tests=[],
        coverage={},
        gates=generated_verdicts(scores, results),
    )
    path = (root / config.results).with_name(RESULTS_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.to_json(), encoding="utf-8")
    print(render_summary(report))
    print(f"results: {path.relative_to(root)}")
    return EXIT_OK if report.passed else EXIT_GATE


def command_replay(args: argparse.Namespace) -> int:
    """Apply one mutant in a scratch copy and run the tests (or ``--tests``)."""
    root = pathlib.Path.cwd()
    config = load_config(root)
    mutant = _find(config, args.mutant)
    with scratch_directory() as scratch:
        pristine = scratch / "pristine"
        copy_project(root, config.copy, pristine)
        tests = args.tests or list(config.tests)
        result = run_in_workspace(
            mutant, pristine, tests, timeout=config.mutant_timeout, stop_first=False
        )
    print(result.diff, end="")
    print(f"{result.id}: {result.status} {result.detail}".rstrip())
    for killer in result.killers:
        print(f"  killed by {killer.test}: {killer.message}")
    return EXIT_OK if result.status == "killed" else EXIT_GATE


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m mutation.generated",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, handler, text in (
        ("list", command_list, "list the generated mutants"),
        ("run", command_run, "run them against the tests; the generated-score gate"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--target", action="append", help="only this target (repeatable)")
        command.add_argument(
            "--operator", action="append", choices=OPERATORS, help="only this operator"
        )
        command.add_argument(
            "--function", action="append", help="only this function or Class.method (repeatable)"
        )
        command.set_defaults(handler=handler)
        if name == "run":
            command.add_argument("--jobs", type=int, help="parallel workers (default: setup.cfg)")
    show = sub.add_parser("show", help="print one mutant's diff")
    show.add_argument("mutant")
    show.set_defaults(handler=command_show)
    replay = sub.add_parser("replay", help="apply one mutant in a scratch copy and run tests")
    replay.add_argument("mutant")
    replay.add_argument("tests", nargs="*", help="test files or node ids (default: setup.cfg)")
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
    except LocationError as exc:
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
