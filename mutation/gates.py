"""The gates: coverage, mutmut score, generated score, must-kill, survivors, ratchet."""

from __future__ import annotations

from collections.abc import Iterable

from mutation.config import KitConfig
from mutation.results import GateVerdict, ModuleScore, MutantResult, Origin

NOT_KILLED = ("survived", "timeout", "no_tests", "error")
"""Statuses that are not a kill (a must-kill mutant needs a failing test)."""

UNDETECTED = ("survived", "no_tests", "error")
"""mutmut mutants the suite did not detect. A ``timeout`` is detected: the
mutant hung a test past its limit (the suite's own per-test alarm used to turn
these hangs into failures; now they are reported as what they are)."""


def _scores(
    mutants: list[MutantResult], origin: Origin, targets: Iterable[str], threshold: float
) -> list[ModuleScore]:
    """Score one origin's mutants per target: (killed + timeout) / (all - excused - not run)."""
    scores: list[ModuleScore] = []
    for target in targets:
        mine = [m for m in mutants if m.origin == origin and m.file == target]
        count = {
            status: sum(1 for m in mine if m.status == status)
            for status in (
                "killed",
                "survived",
                "excused",
                "timeout",
                "no_tests",
                "error",
                "not_run",
            )
        }
        counted = len(mine) - count["excused"] - count["not_run"]
        detected = count["killed"] + count["timeout"]
        score = detected / counted if counted else 1.0
        scores.append(
            ModuleScore(
                file=target,
                total=len(mine),
                killed=count["killed"],
                survived=count["survived"],
                excused=count["excused"],
                timeout=count["timeout"],
                no_tests=count["no_tests"],
                error=count["error"],
                score=round(score, 4),
                threshold=threshold,
            )
        )
    return scores


def module_scores(mutants: list[MutantResult], config: KitConfig) -> list[ModuleScore]:
    """Score mutmut's mutants per target: (killed + timeout) / (all - excused - not run)."""
    return _scores(mutants, "mutmut", config.targets, config.mutmut_score_min)


def generated_scores(
    mutants: list[MutantResult], targets: Iterable[str], threshold: float
) -> list[ModuleScore]:
    """Score the generated operators' mutants per target, as mutmut's are scored.

    A ``timeout`` counts as detected here too: the mutant hung a test past
    its limit (a descriptor left open, so a stage never sees EOF), which no
    passing suite does.
    """
    return _scores(mutants, "generated", targets, threshold)


def _score_verdicts(
    name: str, mutants: list[MutantResult], scores: list[ModuleScore], origin: Origin
) -> list[GateVerdict]:
    verdicts: list[GateVerdict] = []
    for score in scores:
        mine = [m for m in mutants if m.origin == origin and m.file == score.file]
        # Only mutants that ran count (a review run leaves the rest not_run).
        not_run = sum(1 for m in mine if m.status == "not_run")
        counted = score.total - score.excused - not_run
        skipped = f", {not_run} not run" if not_run else ""
        detail = (
            f"{score.score:.1%} ({score.killed} killed + {score.timeout} timeout "
            f"of {counted} counted, "
            f"{score.excused} excused{skipped}) >= {score.threshold:.0%} required"
            if counted
            else f"no mutant of this module ran{skipped}"
        )
        if origin == "generated":
            undetected = [m for m in mine if m.status in UNDETECTED]
            if undetected:
                detail += "; not killed: " + ", ".join(
                    f"{m.id} ({m.status}, line {m.line_start})" for m in undetected
                )
        verdicts.append(
            GateVerdict(
                name=f"{name} {score.file}", passed=score.score >= score.threshold, detail=detail
            )
        )
    return verdicts


def evaluate(
    config: KitConfig,
    mutants: list[MutantResult],
    scores: list[ModuleScore],
    coverage: dict[str, float],
) -> list[GateVerdict]:
    """Return every gate's verdict (the ratchet is added by the caller)."""
    verdicts: list[GateVerdict] = []
    for target, percent in sorted(coverage.items()):
        verdicts.append(
            GateVerdict(
                name=f"coverage {target}",
                passed=percent >= config.coverage_branch_min,
                detail=f"{percent:.2f}% (statements + branches) >= {config.coverage_branch_min:g}% required",
            )
        )
    if any(m.origin == "mutmut" for m in mutants):
        verdicts.extend(_score_verdicts("mutmut score", mutants, scores, "mutmut"))
    if any(m.origin == "generated" for m in mutants):
        generated = generated_scores(mutants, config.targets, config.generated_score_min)
        verdicts.extend(_score_verdicts("generated score", mutants, generated, "generated"))
    must_kill = [m for m in mutants if m.must_kill]
    unkilled = [m for m in must_kill if m.status != "killed" or not m.killers]
    verdicts.append(
        GateVerdict(
            name="must-kill catalogue",
            passed=not unkilled,
            detail=(
                f"all {len(must_kill)} killed by failing tests"
                if not unkilled
                else "not killed: " + ", ".join(f"{m.id} ({m.status})" for m in unkilled)
            ),
        )
    )
    survivors = [m for m in mutants if m.origin == "mutmut" and m.status in UNDETECTED]
    hung = sum(1 for m in mutants if m.origin == "mutmut" and m.status == "timeout")
    verdicts.append(
        GateVerdict(
            name="survivors",
            passed=len(survivors) <= config.max_survivors,
            detail=f"{len(survivors)} mutmut mutants neither killed, timed out nor excused "
            f"({hung} timed out); at most {config.max_survivors} allowed",
        )
    )
    return verdicts
