"""From executed mutants to a result file: excuses, per-test records, gates."""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import sys
import time

from mutation.config import ConfigError, KitConfig
from mutation.gates import evaluate, module_scores
from mutation.results import RESULTS_SCHEMA, MutantResult, Results, TestRecord


class Clock:
    """Progress lines on stderr and the duration of each phase."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.phases: dict[str, float] = {}

    def say(self, message: str) -> None:
        """Print a progress line with the seconds since the start."""
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def phase(self, name: str, began: float) -> None:
        """Record that phase ``name`` ran from ``began`` until now."""
        self.phases[name] = round(time.monotonic() - began, 2)


def apply_excuses(
    mutants: list[MutantResult], excused: dict[str, tuple[str, str]], path: str
) -> None:
    """Mark listed equivalent survivors ``excused``.

    Raises
    ------
    ConfigError
        If an excused id no longer exists or no longer has its diff.
    """
    by_id = check_mutmut_excuses(mutants, excused, path)
    for ident, (reason, _) in excused.items():
        mutant = by_id[ident]
        if mutant.status in ("survived", "timeout", "no_tests"):
            mutant.status = "excused"
            mutant.excuse = reason


def check_mutmut_excuses(
    mutants: list[MutantResult], excused: dict[str, tuple[str, str]], path: str
) -> dict[str, MutantResult]:
    """Check every mutmut excuse still names a mutant with its diff; return mutmut's by id.

    The run calls this as soon as mutmut has generated its mutants, before
    any of them executes, so a stale excuse costs seconds, not a whole run.

    Raises
    ------
    ConfigError
        If an excused id no longer exists or no longer has its diff.
    """
    by_id = {m.id: m for m in mutants if m.origin == "mutmut"}
    for ident, (_, contains) in excused.items():
        mutant = by_id.get(ident)
        if mutant is None:
            msg = f"{path}: excused mutant {ident!r} does not exist (mutmut renumbers mutants when code changes); re-check it"
            raise ConfigError(msg)
        if contains and contains not in mutant.diff:
            msg = f"{path}: excused mutant {ident!r} no longer has the diff it was excused for ({contains!r}); re-check it"
            raise ConfigError(msg)
    return by_id


def test_records(mutants: list[MutantResult], durations: dict[str, float]) -> list[TestRecord]:
    """Count each test's kills and sole kills; carry its baseline duration."""
    kills: dict[str, int] = {}
    sole: dict[str, int] = {}
    for mutant in mutants:
        for killer in mutant.killers:
            kills[killer.test] = kills.get(killer.test, 0) + 1
        if len(mutant.killers) == 1:
            sole[mutant.killers[0].test] = sole.get(mutant.killers[0].test, 0) + 1
    return [
        TestRecord(
            test=t,
            file=t.split("::")[0],
            kills=kills.get(t, 0),
            sole_kills=sole.get(t, 0),
            duration=durations.get(t, 0.0),
        )
        for t in sorted(set(kills) | set(durations))
    ]


def _number(mutant_id: str) -> tuple[str, int]:
    base, _, number = mutant_id.partition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def _order_key(mutant: MutantResult, position: dict[str, int]) -> tuple[int, str, str, int, int]:
    if mutant.origin == "catalogue":
        return (0, "", "", position.get(mutant.id, 0), 0)
    if mutant.origin == "generated":
        return (2, mutant.file, "", mutant.line_start, mutant.column_start)
    base, number = _number(mutant.id)
    return (1, mutant.file, base, number, 0)


def canonical_order(mutants: list[MutantResult], catalogue_ids: list[str]) -> list[MutantResult]:
    """Catalogue entries in catalogue order, mutmut's by file and number, then generated ones.

    Generated mutants follow in source order (ties, two operators at one
    place, keep their generation order: the sort is stable).
    """
    position = {ident: index for index, ident in enumerate(catalogue_ids)}
    return sorted(mutants, key=lambda m: _order_key(m, position))


def assemble(
    config: KitConfig,
    *,
    inputs: dict[str, dict[str, str]],
    digest: str,
    phases: dict[str, float],
    mutants: list[MutantResult],
    coverage: dict[str, float],
    durations: dict[str, float],
    selection: list[str],
    ratchet: bool,
) -> Results:
    """Build the result file's content and evaluate every gate."""
    scores = module_scores(mutants, config)
    results = Results(
        schema=RESULTS_SCHEMA,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs=inputs,
        inputs_digest=digest,
        phases=phases,
        modules=scores,
        mutants=mutants,
        tests=test_records(mutants, durations),
        coverage=coverage,
        gates=evaluate(config, mutants, scores, coverage),
        selection=selection,
    )
    path = config.root / config.baseline
    if ratchet and path.exists():
        from mutation.ratchet import load_baseline, ratchet_verdicts

        try:
            results.gates.extend(ratchet_verdicts(results, load_baseline(path)))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return results


def write_results(results: Results, path: pathlib.Path) -> None:
    """Write ``results`` to ``path`` (creating its directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")


def copy_result(result: MutantResult) -> MutantResult:
    """Return an independent copy of one mutant's result."""
    return dataclasses.replace(result, killers=list(result.killers), tests=list(result.tests))
