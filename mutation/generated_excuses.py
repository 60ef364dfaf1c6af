"""Excuses of the generated mutants (their score gate is in :mod:`mutation.gates`).

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
from mutation.operators import OPERATORS
from mutation.results import MutantResult

EXCUSE_TABLE = "excused_generated"
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
    excuses: dict[str, tuple[str, str]], mutants: Iterable[MutantResult], path: str
) -> None:
    """Refuse excuses that name no mutant or no longer match its diff.

    ``mutants`` must hold every generated mutant of every target (other
    origins are ignored), so that an excuse is checked before any test runs
    and whether or not its mutant runs this time.

    Raises
    ------
    ConfigError
        Naming the first excuse that does not apply, and what to do.
    """
    by_id = {m.id: m for m in mutants if m.origin == "generated"}
    for ident, (_, contains) in sorted(excuses.items()):
        mutant = by_id.get(ident)
        if mutant is None:
            msg = (
                f"{path}: excused generated mutant {ident!r} does not exist (its function "
                "changed or was renamed); the current ids are in the last run's report "
                "(`make mutate-report`, origin generated): re-check the excuse"
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
    """Mark excused generated survivors (after :func:`check_excuses`) as ``excused``."""
    for result in results:
        excuse = excuses.get(result.id) if result.origin == "generated" else None
        if excuse is not None and result.status in _EXCUSABLE:
            result.status = "excused"
            result.excuse = excuse[0]
