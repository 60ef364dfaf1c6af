"""Command line of the Rust phase: ``python -m mutation.rust_phase``.

``run [--shard K/N] [--force]`` runs the phase and writes its result file
(``mutation/results/rust.json`` by default, one per shard when sharded).
``replay ID`` re-runs one mutant (a catalogue id or a cargo-mutants name)
in a scratch copy and prints the tests that fail.

Exit codes: 0 every gate passed; 1 a gate failed; 2 usage or configuration
error; 3 a mutant's diff cannot be placed in its file (nothing is written);
4 the unmutated tests fail; 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import re
import sys

from mutation.config import ConfigError
from mutation.cross_language import CrossLanguageError
from mutation.locations import require_valid_locations
from mutation.report_common import read_source
from mutation.results import RESULTS_SCHEMA, InvalidResultsError, Results
from mutation.rust_config import load_rust_config
from mutation.rust_gates import rust_gates, rust_scores
from mutation.rust_phase import PhaseRun, cache_path, results_path, run_rust_phase
from mutation.rust_results import RUST_INPUTS, function_inputs, relocate
from mutation.rust_runs import BaselineFailedError

_SHARD = re.compile(r"^(\d+)/(\d+)$")


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> ``(1, 4)`` (0-based); ``None`` stays ``None``.

    Raises
    ------
    ConfigError
        If the text is not ``K/N`` with ``1 <= K <= N``.
    """
    if text is None:
        return None
    match = _SHARD.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        msg = f"--shard {text!r}: use K/N with 1 <= K <= N, e.g. --shard 1/4"
        raise ConfigError(msg)
    return int(match.group(1)) - 1, int(match.group(2))


def write_results(root: pathlib.Path, run: PhaseRun, shard: tuple[int, int] | None) -> Results:
    """Score, gate and write the phase's result file and its cache.

    Raises
    ------
    mutation.locations.LocationError
        If a mutant's diff cannot be placed in its file (nothing is written).
    """
    config = load_rust_config(root)
    # Placed from their diffs, as the Python phase places its mutants, and
    # checked the way the reports check them.
    relocate(run.mutants, lambda file: read_source(root, file))
    require_valid_locations(run.mutants, lambda file: read_source(root, file))
    scores = rust_scores(run.mutants, config)
    results = Results(
        schema=RESULTS_SCHEMA,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs={RUST_INPUTS: function_inputs(dict(run.cache.get("functions", {})))},  # type: ignore[call-overload]
        inputs_digest=str(run.cache.get("tests_digest", "")),
        phases=run.phases,
        modules=scores,
        mutants=run.mutants,
        tests=[],
        coverage={},
        gates=rust_gates(run.mutants, scores, config),
        selection=[f"shard {shard[0] + 1}/{shard[1]}"] if shard else [],
    )
    path = root / results_path(config, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")
    cache_path(config, shard).write_text(json.dumps(run.cache) + "\n", encoding="utf-8")
    return results


def summarise(results: Results, run: PhaseRun) -> list[str]:
    """Return the lines printed after a run: gates, survivors, cross-language kills."""
    lines = [f"rust phase: {run.ran} run, {run.reused} re-used, phases {run.phases}"]
    unviable = [m for m in results.mutants if m.status == "unviable"]
    if unviable:
        lines.append(f"  {len(unviable)} unviable (do not build; listed, not scored)")
    for mutant in results.mutants:
        if mutant.status == "killed" and any(k.language == "python" for k in mutant.killers):
            killer = mutant.killers[0]
            lines.append(f"  cross-language kill: {mutant.id} by Python test {killer.test}")
    for mutant in results.mutants:
        if mutant.status in {"survived", "timeout", "error", "no_tests"}:
            lines.append(
                f"  {mutant.status}: {mutant.id} ({mutant.file}:{mutant.line_start}) {mutant.detail}"
            )
    for gate in results.gates:
        lines.append(f"  [{'pass' if gate.passed else 'FAIL'}] {gate.name}: {gate.detail}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m mutation.rust_phase", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the Rust phase and its gates")
    run_parser.add_argument("--shard", help="run shard K of N (1-based), e.g. 2/4")
    run_parser.add_argument("--force", action="store_true", help="re-use nothing")
    run_parser.add_argument(
        "--only", help="run only mutants whose name or catalogue id matches this regex"
    )
    replay_parser = commands.add_parser("replay", help="re-run one Rust mutant")
    replay_parser.add_argument("id", help="a catalogue id or a cargo-mutants mutant name")
    args = parser.parse_args(argv)
    root = pathlib.Path.cwd()
    try:
        config = load_rust_config(root)
        if args.command == "replay":
            from mutation.rust_replay import replay

            return replay(config, args.id)
        shard = parse_shard(args.shard)
        run = run_rust_phase(config, shard=shard, force=args.force, only=args.only, progress=_say)
        results = write_results(root, run, shard)
    except ConfigError as exc:
        _say(f"rust phase: error: {exc}")
        return 2
    except InvalidResultsError as exc:
        _say(f"rust phase: error: {exc}")
        return 3
    except (BaselineFailedError, CrossLanguageError) as exc:
        _say(f"rust phase: baseline failed: {exc}")
        return 4
    except KeyboardInterrupt:
        _say("rust phase: interrupted; the working tree is untouched")
        return 130
    for line in summarise(results, run):
        _say(line)
    return 0 if results.passed else 1


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()
