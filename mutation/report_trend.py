"""The trend against the ratchet baseline: new survivors, newly killed mutants.

``mutation/baseline.json`` keeps the accepted scores; beside it,
``mutation/baseline-mutants.json`` (written by ``make mutate-baseline``)
keeps the accepted run's outcome of every mutant.  mutmut renumbers its
mutants whenever a function changes, so outcomes are keyed not by id but by
what the mutant does: its origin, file, function and the text its diff
removes and adds (indentation ignored), plus an occurrence number for
identical mutations.  Lines are not part of the key, so code moving within
a file keeps its mutants' history.

Any result file can stand in for the snapshot (``--previous``), e.g. the
main branch's ``latest.json`` from a CI artifact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import typing as typ

from mutation.diff_text import parse_hunks
from mutation.report_common import PROBLEM_STATUSES
from mutation.results import RESULTS_SCHEMA, InvalidResultsError, MutantResult, Results

SNAPSHOT_SCHEMA = "cuprum-mutation-outcomes/1"
SNAPSHOT_NAME = "baseline-mutants.json"
"""The snapshot's file name, beside the score baseline."""

Outcomes = dict[str, dict[str, str]]
"""``{key: {"id", "status", "where"}}``, and ``"killer"`` (the first) for a killed mutant."""


def _changed_text(diff: str) -> tuple[str, str]:
    removed: list[str] = []
    added: list[str] = []
    for hunk in parse_hunks(diff):
        for tag, text in hunk.lines:
            if tag == "-":
                removed.append(text.strip())
            elif tag == "+":
                added.append(text.strip())
    return "\n".join(removed), "\n".join(added)


def mutant_keys(mutants: typ.Iterable[MutantResult]) -> list[str]:
    """Return each mutant's stable key, in order.

    Parameters
    ----------
    mutants
        The mutants of one run.

    Returns
    -------
    list[str]
        ``origin:file:function:digest#n`` keys, unique within the run.
    """
    keys: list[str] = []
    seen: dict[str, int] = {}
    for mutant in mutants:
        removed, added = _changed_text(mutant.diff)
        digest = hashlib.sha256(f"{removed}\0{added}".encode()).hexdigest()[:16]
        base = f"{mutant.origin}:{mutant.file}:{mutant.function}:{digest}"
        seen[base] = seen.get(base, 0) + 1
        keys.append(f"{base}#{seen[base]}")
    return keys


def outcomes_of(results: Results) -> Outcomes:
    """Return the outcome of every mutant that ran, keyed by :func:`mutant_keys`.

    Parameters
    ----------
    results
        A result file.

    Returns
    -------
    Outcomes
        Mutants not run (outside a review selection) are left out; a
        killed mutant carries its first killer.
    """
    outcomes: Outcomes = {}
    for key, m in zip(mutant_keys(results.mutants), results.mutants, strict=True):
        if m.status == "not_run":
            continue
        outcomes[key] = {"id": m.id, "status": m.status, "where": f"{m.file}:{m.line_start}"}
        if m.killers:
            # The next run tries it first (mutation.killer_hints).
            outcomes[key]["killer"] = m.killers[0].test
    return outcomes


def write_snapshot(results: Results, path: pathlib.Path) -> int:
    """Record the outcomes of a full run as the trend's baseline.

    Parameters
    ----------
    results
        The results of a full run.
    path
        The snapshot file to (over)write.

    Returns
    -------
    int
        How many mutants were recorded.

    Raises
    ------
    ValueError
        For the results of a review run, which covers only some functions.
    """
    if results.selection:
        msg = "a --since review run covers only some functions; run `make mutate`"
        raise ValueError(msg)
    outcomes = outcomes_of(results)
    # One mutant per line: re-recording the baseline gives a readable git diff.
    rows = ",\n".join(
        f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)}"
        for key, value in sorted(outcomes.items())
    )
    head = json.dumps({"schema": SNAPSHOT_SCHEMA, "created": results.created})[:-1]
    path.write_text(f'{head}, "mutants": {{\n{rows}\n}}}}\n', encoding="utf-8")
    return len(outcomes)


def load_outcomes(path: pathlib.Path) -> tuple[Outcomes, str]:
    """Read a snapshot or a result file.

    Parameters
    ----------
    path
        A ``baseline-mutants.json`` snapshot or a kit result file.

    Returns
    -------
    tuple
        The outcomes and the date of the run they come from.

    Raises
    ------
    InvalidResultsError
        If the file is unreadable or neither kind of document.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"cannot read the previous outcomes {path}: {exc}"
        raise InvalidResultsError(msg) from None
    schema = raw.get("schema") if isinstance(raw, dict) else None
    if schema == RESULTS_SCHEMA:
        results = Results.from_json(json.dumps(raw))
        return outcomes_of(results), results.created
    if schema == SNAPSHOT_SCHEMA and isinstance(raw.get("mutants"), dict):
        return raw["mutants"], str(raw.get("created", ""))
    msg = f"{path} is neither a mutant snapshot ({SNAPSHOT_SCHEMA}) nor a result file"
    raise InvalidResultsError(msg)


@dataclasses.dataclass(frozen=True)
class Change:
    """A mutant whose outcome changed."""

    id: str
    where: str
    before: str
    after: str

    @property
    def label(self) -> str:
        """``id (file:line)``."""
        return f"{self.id} ({self.where})"


@dataclasses.dataclass(frozen=True)
class Trend:
    """How this run's outcomes differ from the baseline's."""

    known: bool
    note: str
    new_survivors: list[Change] = dataclasses.field(default_factory=list)
    newly_killed: list[Change] = dataclasses.field(default_factory=list)
    added: int = 0
    removed: int = 0
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    """The ratchet baseline's accepted score per module."""


def compare(
    previous: Outcomes | None,
    results: Results,
    *,
    since: str = "",
    scores: dict[str, float] | None = None,
) -> Trend:
    """Compare ``results`` with earlier outcomes.

    Parameters
    ----------
    previous
        The baseline's outcomes, or ``None`` when none is recorded.
    results
        This run's results.
    since
        When the baseline run was made (for the note).
    scores
        The ratchet baseline's scores (``mutation/baseline.json``).

    Returns
    -------
    Trend
        New survivors (survivors now that were not, including new mutants
        that survive), newly killed mutants (killed now, survivors then) and
        how many mutants appeared and vanished.  In a review run only the
        mutants that ran are compared.
    """
    if previous is None:
        return Trend(
            known=False,
            note="No baseline of mutant outcomes is recorded yet; "
            "`make mutate-baseline` records one beside the score baseline.",
            scores=dict(scores or {}),
        )
    current = outcomes_of(results)
    new_survivors: list[Change] = []
    newly_killed: list[Change] = []
    for key, now in current.items():
        then = previous.get(key, {}).get("status", "")
        change = Change(now["id"], now["where"], then or "new", now["status"])
        if now["status"] in PROBLEM_STATUSES and then not in PROBLEM_STATUSES:
            new_survivors.append(change)
        elif now["status"] == "killed" and then in PROBLEM_STATUSES:
            newly_killed.append(change)
    # A review run leaves most mutants out: their absence is not a removal.
    removed = 0 if results.selection else len(set(previous) - set(current))
    when = f" of {since}" if since else ""
    return Trend(
        known=True,
        note=f"Compared with the baseline run{when}.",
        new_survivors=new_survivors,
        newly_killed=newly_killed,
        added=len(set(current) - set(previous)),
        removed=removed,
        scores=dict(scores or {}),
    )


def snapshot_path(baseline: pathlib.Path) -> pathlib.Path:
    """Return where the mutant snapshot of a score baseline file lives."""
    return baseline.with_name(SNAPSHOT_NAME)
