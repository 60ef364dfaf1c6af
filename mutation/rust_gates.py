"""The Rust phase's gates, scored apart from Python's.

The Rust score counts cargo-mutants' mutants only: killed (by a Rust or a
Python test) over all of them less the unviable (they do not build), the
excused (equivalent, with a written reason) and those not run (outside a
shard). The must-kill gate covers the Rust catalogue.
"""

from __future__ import annotations

import pathlib
import re
import tomllib

from mutation.config import ConfigError
from mutation.results import GateVerdict, ModuleScore, MutantResult
from mutation.rust_config import RustConfig

NOT_KILLED = ("survived", "timeout", "no_tests", "error")
_POSITION = re.compile(r":\d+:\d+:")


def load_rust_excused(path: pathlib.Path) -> list[tuple[str, str, str]]:
    """Read ``[[excused]]`` entries: (mutant without position, reason, diff line).

    Raises
    ------
    ConfigError
        If the file is invalid or an entry lacks a field.
    """
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML: {exc}"
        raise ConfigError(msg) from None
    entries: list[tuple[str, str, str]] = []
    for index, entry in enumerate(data.get("excused", []), start=1):
        fields = [entry.get(key) for key in ("mutant", "reason", "diff_contains")]
        if not all(isinstance(value, str) and value.strip() for value in fields):
            msg = f"{path}: excused entry #{index} needs mutant, reason and diff_contains"
            raise ConfigError(msg)
        entries.append((str(fields[0]), str(fields[1]), str(fields[2])))
    return entries


def position_free(name: str) -> str:
    """``src/pump.rs:208:34: delete - in wait_for`` -> ``src/pump.rs: delete - in wait_for``."""
    return _POSITION.sub(":", name, count=1)


def is_excused(mutant: MutantResult, excused: list[tuple[str, str, str]]) -> bool:
    """Whether an excuse entry matches ``mutant`` (position-free name and diff)."""
    return mutant.origin == "cargo-mutants" and any(
        position_free(mutant.id) == name and contains in mutant.diff
        for name, _, contains in excused
    )


def apply_excuses(
    mutants: list[MutantResult], excused: list[tuple[str, str, str]], path: str
) -> None:
    """Mark matching survivors ``excused``; an entry matching nothing is an error.

    Raises
    ------
    ConfigError
        If an entry matches no mutant (the code changed: re-check it).
    """
    for name, reason, contains in excused:
        matching = [
            m
            for m in mutants
            if m.origin == "cargo-mutants" and position_free(m.id) == name and contains in m.diff
        ]
        if not matching:
            msg = f"{path}: excused Rust mutant {name!r} with diff line {contains!r} no longer exists; re-check it"
            raise ConfigError(msg)
        for mutant in matching:
            if mutant.status in NOT_KILLED:
                mutant.status = "excused"
                mutant.excuse = reason


def rust_scores(mutants: list[MutantResult], config: RustConfig) -> list[ModuleScore]:
    """Score cargo-mutants' mutants per source file."""
    scores: list[ModuleScore] = []
    for source in config.sources:
        mine = [m for m in mutants if m.origin == "cargo-mutants" and m.file == source]
        count = {
            status: sum(1 for m in mine if m.status == status)
            for status in (
                "killed",
                "survived",
                "excused",
                "timeout",
                "no_tests",
                "error",
                "unviable",
                "not_run",
            )
        }
        counted = len(mine) - count["excused"] - count["unviable"] - count["not_run"]
        scores.append(
            ModuleScore(
                file=source,
                total=len(mine) - count["unviable"],
                killed=count["killed"],
                survived=count["survived"],
                excused=count["excused"],
                timeout=count["timeout"],
                no_tests=count["no_tests"],
                error=count["error"],
                score=round(count["killed"] / counted if counted else 1.0, 4),
                threshold=config.rust_score_min,
            )
        )
    return scores


def rust_gates(
    mutants: list[MutantResult], scores: list[ModuleScore], config: RustConfig
) -> list[GateVerdict]:
    """Every Rust gate's verdict; survivors are named in the details."""
    verdicts: list[GateVerdict] = []
    for score in scores:
        unviable = sum(1 for m in mutants if m.file == score.file and m.status == "unviable")
        # Outside a shard or an --only selection: judged elsewhere, not counted here.
        not_run = sum(
            1
            for m in mutants
            if m.origin == "cargo-mutants" and m.file == score.file and m.status == "not_run"
        )
        verdicts.append(
            GateVerdict(
                name=f"rust score {score.file}",
                passed=score.score >= score.threshold,
                detail=f"{score.score:.1%} ({score.killed} killed of {score.total - score.excused - not_run} counted, "
                f"{score.excused} excused, {unviable} unviable not scored) >= {score.threshold:.0%} required",
            )
        )
    # Entries outside a shard or an --only selection are judged elsewhere.
    must_kill = [
        m for m in mutants if m.must_kill and m.language == "rust" and m.status != "not_run"
    ]
    unkilled = [m for m in must_kill if m.status != "killed" or not m.killers]
    verdicts.append(
        GateVerdict(
            name="rust must-kill catalogue",
            passed=not unkilled,
            detail=f"all {len(must_kill)} killed by failing tests"
            if not unkilled
            else "not killed: " + ", ".join(f"{m.id} ({m.status})" for m in unkilled),
        )
    )
    survivors = [m for m in mutants if m.origin == "cargo-mutants" and m.status in NOT_KILLED]
    named = "; ".join(f"{m.id} ({m.status})" for m in survivors[:10])
    verdicts.append(
        GateVerdict(
            name="rust survivors",
            passed=len(survivors) <= config.max_survivors,
            detail=f"{len(survivors)} cargo-mutants mutants neither killed nor excused; at most "
            f"{config.max_survivors} allowed" + (f": {named}" if survivors else ""),
        )
    )
    return verdicts
