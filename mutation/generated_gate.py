"""Excuses and the per-module score gate of the generated mutants.

Generated mutants are excused in the kit's one excuses file,
``mutation/excused.toml``, in ``[[excused_generated]]`` entries (mutmut's
stay in ``[[excused]]``)::

    [[excused_generated]]
    id = "cuprum._streams.pump_stream__call-removed_2"
    reason = "Why no test can tell the mutant from the original."
    diff_contains = "-        writer.write(chunk)"

``diff_contains`` is required: a generated id counts an operator's sites
within one function, so an edit to that function can move an id to another
site, and the excuse must then stop applying rather than excuse the wrong
mutant.
"""

from __future__ import annotations

import pathlib
import tomllib
from collections.abc import Iterable

from mutation.config import ConfigError
from mutation.operators import OPERATORS, GeneratedMutant
from mutation.results import GateVerdict, ModuleScore, MutantResult

EXCUSE_TABLE = "excused_generated"
NOT_KILLED = ("survived", "timeout", "no_tests", "error")
_EXCUSABLE = ("survived", "timeout", "no_tests")


def load_generated_excuses(path: pathlib.Path) -> dict[str, tuple[str, str]]:
    """Read ``{mutant id: (reason, diff_contains)}`` for generated mutants.

    Raises
    ------
    ConfigError
        If the file is not valid TOML, or an entry lacks an id, a written
        reason or ``diff_contains``, names no known operator, or repeats.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML: {exc}"
        raise ConfigError(msg) from None
    excuses: dict[str, tuple[str, str]] = {}
    for entry in data.get(EXCUSE_TABLE, []):
        ident = str(entry.get("id", ""))
        reason = str(entry.get("reason", "")).strip()
        contains = str(entry.get("diff_contains", ""))
        if not ident or len(reason) < 10 or not contains:
            msg = (
                f"{path}: [[{EXCUSE_TABLE}]] entry {ident or '(no id)'!r} needs an id, "
                "a written reason and diff_contains (a line of the mutant's diff)"
            )
            raise ConfigError(msg)
        if not any(f"__{operator}_" in ident for operator in OPERATORS):
            msg = (
                f"{path}: [[{EXCUSE_TABLE}]] entry {ident!r} is not a generated mutant id "
                f"(<module>.<function>__<operator>_<n>, operators: {', '.join(OPERATORS)})"
            )
            raise ConfigError(msg)
        if ident in excuses:
            msg = f"{path}: generated mutant {ident!r} is excused twice"
            raise ConfigError(msg)
        excuses[ident] = (reason, contains)
    return excuses


def check_excuses(
    excuses: dict[str, tuple[str, str]], mutants: Iterable[GeneratedMutant], path: str
) -> None:
    """Refuse excuses that name no mutant or no longer match its diff.

    ``mutants`` must be every generated mutant of every target, so that an
    excuse is checked whether or not its mutant is run this time.

    Raises
    ------
    ConfigError
        Naming the first excuse that does not apply, and what to do.
    """
    by_id = {m.id: m for m in mutants}
    for ident, (_, contains) in sorted(excuses.items()):
        mutant = by_id.get(ident)
        if mutant is None:
            msg = (
                f"{path}: excused generated mutant {ident!r} does not exist (its function "
                "changed or was renamed); list the current ones with "
                "`python -m mutation.generated list` and re-check the excuse"
            )
            raise ConfigError(msg)
        if contains not in mutant.diff:
            msg = (
                f"{path}: excused generated mutant {ident!r} no longer has the diff it was "
                f"excused for ({contains!r}); re-check it"
            )
            raise ConfigError(msg)


def apply_generated_excuses(
    results: list[MutantResult], excuses: dict[str, tuple[str, str]]
) -> None:
    """Mark excused survivors (after :func:`check_excuses`) as ``excused``."""
    for result in results:
        excuse = excuses.get(result.id)
        if excuse is not None and result.status in _EXCUSABLE:
            result.status = "excused"
            result.excuse = excuse[0]


def generated_scores(
    results: list[MutantResult], targets: Iterable[str], threshold: float
) -> list[ModuleScore]:
    """Score the generated mutants per target: killed / (all - excused - not run)."""
    scores: list[ModuleScore] = []
    for target in targets:
        mine = [m for m in results if m.origin == "generated" and m.file == target]
        count = {s: sum(1 for m in mine if m.status == s) for s in (*NOT_KILLED, "killed")}
        excused = sum(1 for m in mine if m.status == "excused")
        counted = len(mine) - excused - sum(1 for m in mine if m.status == "not_run")
        scores.append(
            ModuleScore(
                file=target,
                total=len(mine),
                killed=count["killed"],
                survived=count["survived"],
                excused=excused,
                timeout=count["timeout"],
                no_tests=count["no_tests"],
                error=count["error"],
                score=round(count["killed"] / counted, 4) if counted else 1.0,
                threshold=threshold,
            )
        )
    return scores


def generated_verdicts(scores: list[ModuleScore], results: list[MutantResult]) -> list[GateVerdict]:
    """One gate per module; a failing gate names every mutant not killed."""
    verdicts: list[GateVerdict] = []
    for score in scores:
        unkilled = [
            m
            for m in results
            if m.origin == "generated" and m.file == score.file and m.status in NOT_KILLED
        ]
        detail = (
            f"{score.score:.1%} ({score.killed} killed of {score.total - score.excused} "
            f"counted, {score.excused} excused) >= {score.threshold:.0%} required"
        )
        if unkilled:
            detail += "; not killed: " + ", ".join(
                f"{m.id} ({m.status}, line {m.line_start})" for m in unkilled
            )
        verdicts.append(
            GateVerdict(
                name=f"generated score {score.file}",
                passed=score.score >= score.threshold,
                detail=detail,
            )
        )
    return verdicts
