"""Killer hints: a mutant's last known killer runs first.

A mutant that stops at its first killer costs the tests run before it. The
baseline's order (tests reaching the mutated statement, the module's own
file, fastest first) put the killer of 420 of cuprum's mutmut and generated
mutants behind other tests, some of which wait out their own bounds under
the mutant: one ``_terminate`` mutant ran seven tests, 18 s of baseline
time, before its killer, 48 s in all.

The last run knows each killer: the last full result file when there is
one (read for re-use, or for the hints alone in a forced run), else the
trend snapshot committed beside the ratchet baseline (all a fresh CI clone
has). Mutants are matched by the trend's stable keys
(:func:`mutation.report_trend.mutant_keys`: what the mutant changes, not
mutmut's renumbered ids). A killer that still covers the mutant moves to
the front of its tests. Only the order changes, never the set, so a
survivor still survives; a killed mutant is reached sooner, and the test
named as its first killer stays the same from run to run.
"""

from __future__ import annotations

import pathlib

from mutation.assemble import canonical_order
from mutation.mutants import Mutant
from mutation.report_trend import load_outcomes, mutant_keys, outcomes_of
from mutation.results import InvalidResultsError, Results


def killer_hints(previous: Results | None, *files: pathlib.Path) -> dict[str, str]:
    """Return each known mutant's first killer, by trend key.

    Parameters
    ----------
    previous
        The last full run's results, if this run read them.
    files
        Read in turn when there are none (a forced run): a result file or a
        trend snapshot (``baseline-mutants.json``). The first readable one
        with killers serves; none gives no hints.

    Returns
    -------
    dict[str, str]
        ``{trend key: test node id}`` for every killed mutant on record.
    """
    found = [outcomes_of(previous)] if previous is not None else []
    for path in () if previous is not None else files:
        try:
            found.append(load_outcomes(path)[0])
        except InvalidResultsError:
            continue
    for outcomes in found:
        hints = {key: value["killer"] for key, value in outcomes.items() if value.get("killer")}
        if hints:
            return hints
    return {}


def put_killers_first(
    mutants: list[Mutant], hints: dict[str, str], catalogue_ids: list[str]
) -> int:
    """Move each mutant's known killer to the front of its tests; return how many moved.

    Keys are computed in the result file's order (``catalogue_ids`` orders
    the catalogue's entries), the order the hints were recorded in, so the
    occurrence numbers of identical mutations match.
    """
    if not hints:
        return 0
    ordered = canonical_order([m.result for m in mutants], catalogue_ids)
    moved = 0
    for key, result in zip(mutant_keys(ordered), ordered, strict=True):
        killer = hints.get(key)
        if killer and killer in result.tests and result.tests[0] != killer:
            result.tests.remove(killer)
            result.tests.insert(0, killer)
            moved += 1
    return moved
