"""Command line of the Rust phase: ``python -m mutation.rust_phase``.

``run [--shard K/N] [--force]`` runs the phase and writes its result file
(``mutation/results/rust.json`` by default, one per shard when sharded).
``merge FILES...`` combines the shards' result files of one sharded run
into the unsharded result file, gated as an unsharded run is (exit 3 when
the files are not the shards of one run: different inputs, a shard missing
or repeated, an invalid file).
``replay ID`` re-runs one mutant (a catalogue id or a cargo-mutants name)
in a scratch copy and prints the tests that fail.

Exit codes: 0 every gate passed; 1 a gate failed; 2 usage or configuration
error; 3 a mutant's diff cannot be placed in its file (nothing is written)
or shards that do not merge;
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
from mutation.results import RESULTS_SCHEMA, InvalidResultsError, MutantResult, Results
from mutation.rust_config import load_rust_config
from mutation.rust_gates import is_excused, load_rust_excused, rust_gates, rust_scores
from mutation.rust_merge import load_rust_shards, merged_cache
from mutation.rust_phase import (
    CACHE_SCHEMA,
    PhaseRun,
    cache_path,
    finish_mutants,
    results_path,
    run_rust_phase,
)
from mutation.rust_results import RUST_INPUTS, function_inputs, relocate, rust_stale
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


def build_results(
    root: pathlib.Path,
    mutants: list[MutantResult],
    *,
    inputs: dict[str, dict[str, str]],
    digest: str,
    phases: dict[str, float],
    selection: list[str],
) -> Results:
    """Place, score and gate the phase's mutants as one result file.

    Raises
    ------
    mutation.locations.LocationError
        If a mutant's diff cannot be placed in its file.
    """
    config = load_rust_config(root)
    # Placed from their diffs, as the Python phase places its mutants, and
    # checked the way the reports check them.
    relocate(mutants, lambda file: read_source(root, file))
    require_valid_locations(mutants, lambda file: read_source(root, file))
    scores = rust_scores(mutants, config)
    return Results(
        schema=RESULTS_SCHEMA,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs=inputs,
        inputs_digest=digest,
        phases=phases,
        modules=scores,
        mutants=mutants,
        tests=[],
        coverage={},
        gates=rust_gates(mutants, scores, config),
        selection=selection,
    )


def write_results(
    root: pathlib.Path, run: PhaseRun, shard: tuple[int, int] | None, only: str | None = None
) -> Results:
    """Score, gate and write the phase's result file and its cache.

    Raises
    ------
    mutation.locations.LocationError
        If a mutant's diff cannot be placed in its file (nothing is written).
    """
    config = load_rust_config(root)
    label = f"{shard[0] + 1}/{shard[1]}" if shard else ""
    results = build_results(
        root,
        run.mutants,
        inputs={RUST_INPUTS: function_inputs(dict(run.cache.get("functions", {})))},  # type: ignore[call-overload]
        digest=str(run.cache.get("tests_digest", "")),
        phases=run.phases,
        # Recorded so that shards run with different selections never merge.
        # The shard stays out of ``Results.shard``: that field marks a Python
        # shard, which `python -m mutation merge` takes.
        selection=([f"shard {label}"] if shard else []) + ([f"only {only}"] if only else []),
    )
    _write(root / results_path(config, shard), results, cache_path(config, shard), run.cache)
    return results


def _write(
    path: pathlib.Path, results: Results, cache: pathlib.Path, keys: dict[str, object] | None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")
    if keys is not None:
        cache.write_text(json.dumps(keys) + "\n", encoding="utf-8")


def merge_shards(root: pathlib.Path, files: list[str]) -> tuple[Results, list[str]]:
    """Merge Rust shard results into the unsharded result file; return it and what to print.

    The merged mutants are excused, scored and gated as an unsharded run's
    are; the shards' caches are merged when all are there.

    Raises
    ------
    mutation.results.InvalidResultsError
        If the files are not the shards of one run (exit 3).
    mutation.config.ConfigError
        If an excuse no longer matches any mutant (exit 2).
    """
    config = load_rust_config(root)
    merged = load_rust_shards([pathlib.Path(f) for f in files])
    excused = load_rust_excused(root / config.excused)
    # A shard's file keeps no status from before its excuse: if the excuse
    # is gone, only re-running the mutant can say what it is now.
    for mutant in merged.mutants:
        if mutant.status == "excused" and not is_excused(mutant, excused):
            msg = (
                f"refusing to merge: {mutant.id!r} was excused when its shard ran, but "
                f"{config.excused} no longer excuses it; re-run the shards"
            )
            raise InvalidResultsError(msg)
    finish_mutants(merged.mutants, excused, config.excused)
    results = build_results(
        root,
        merged.mutants,
        inputs=merged.first.inputs,
        digest=merged.first.inputs_digest,
        phases=merged.phases,
        selection=[s for s in merged.first.selection if not s.startswith("shard ")],
    )
    cache = merged_cache(merged, CACHE_SCHEMA)
    _write(root / config.results, results, cache_path(config, None), cache)
    judged = sum(1 for m in results.mutants if m.status != "not_run")
    lines = [
        f"rust phase: merged {merged.count} shards ({judged} of {len(results.mutants)} mutants "
        f"judged), phases summed {merged.phases}; results: {config.results}"
    ]
    if cache is None:
        lines.append("  shard caches missing or unusable: the next unsharded run judges anew")
    stale = rust_stale(results, config)
    if stale:
        lines.append(
            "  note: the tree changed since the shards ran ("
            + ", ".join(stale[:5])
            + "); the reports will call these results stale"
        )
    return results, lines + verdict_lines(results)


def summarise(results: Results, run: PhaseRun) -> list[str]:
    """Return the lines printed after a run: gates, survivors, cross-language kills."""
    header = f"rust phase: {run.ran} run, {run.reused} re-used, phases {run.phases}"
    return [header, *verdict_lines(results)]


def verdict_lines(results: Results) -> list[str]:
    """Return what every run prints about its verdicts, sharded, merged or not."""
    lines: list[str] = []
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
    merge_parser = commands.add_parser(
        "merge", help="combine the shards' result files into the result file and its gates"
    )
    merge_parser.add_argument(
        "files", nargs="+", metavar="FILE", help="every rust-shard-K-of-N.json of one run"
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
        if args.command == "merge":
            results, lines = merge_shards(root, args.files)
            for line in lines:
                _say(line)
            return 0 if results.passed else 1
        shard = parse_shard(args.shard)
        run = run_rust_phase(config, shard=shard, force=args.force, only=args.only, progress=_say)
        results = write_results(root, run, shard, args.only)
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
