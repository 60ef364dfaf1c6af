"""GitHub workflow commands that put survivors on the pull request's diff.

``python -m mutation report --annotations`` prints one ``::error`` command
per survivor and per unkilled must-kill mutant, at the mutant's real file,
lines and columns, so GitHub shows it beside the changed line.  GitHub shows
a limited number of annotations per step; past :data:`MAX_ANNOTATIONS` the
rest are counted in one ``::notice``.
"""

from __future__ import annotations

from mutation.report_common import (
    STATUS_LABELS,
    is_must_kill,
    needs_review,
    replay_for,
    review_priority,
)
from mutation.report_markdown_blocks import where
from mutation.results import MutantResult, Results
from mutation.rust_results import CARGO_MUTANTS_MARK

MAX_ANNOTATIONS = 50
"""Annotations printed before the rest are summed up (GitHub shows 50 per job)."""


def _data(text: str) -> str:
    """Escape a command's message (GitHub's rules for the data part)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escape a command's property value (also ``:`` and ``,``)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _changed(mutant: MutantResult) -> str:
    removed = [line[1:] for line in mutant.diff.splitlines() if line.startswith("-")]
    added = [line[1:] for line in mutant.diff.splitlines() if line.startswith("+")]
    removed = [line for line in removed if not line.startswith("--")]
    added = [line for line in added if not line.startswith("++")]
    before = removed[0].strip() if removed else ""
    after = added[0].replace(CARGO_MUTANTS_MARK, "").strip() if added else "(removed)"
    return f"`{before}` -> `{after}`"


def annotation(mutant: MutantResult) -> str:
    """Return the workflow command for one mutant.

    Parameters
    ----------
    mutant
        A survivor or an unkilled must-kill mutant.

    Returns
    -------
    str
        ``::error file=...,line=...,endLine=...[,col=...,endColumn=...],title=...::message``.
    """
    status = STATUS_LABELS.get(mutant.status, mutant.status)
    kind = "must-kill mutant" if is_must_kill(mutant) else "mutant"
    title = f"Mutation: {kind} {status}"
    lines = [f"{mutant.id} ({mutant.origin}) {status}: {_changed(mutant)}"]
    if is_must_kill(mutant) and mutant.claim:
        lines.append(f"Claim not guarded: {mutant.claim}")
    if mutant.detail:
        lines.append(mutant.detail.strip().splitlines()[0])
    if mutant.tests:
        lines.append("Covering tests: " + ", ".join(mutant.tests[:3]))
    else:
        lines.append("Covering tests: none recorded.")
    replay = replay_for(mutant)
    if replay:
        lines.append(f"Replay: {replay}")
    props = [
        f"file={_property(mutant.file)}",
        f"line={mutant.line_start}",
        f"endLine={max(mutant.line_end, mutant.line_start)}",
    ]
    # GitHub takes columns only for a single-line span.
    if mutant.column_start and mutant.line_end == mutant.line_start:
        props.extend([f"col={mutant.column_start}", f"endColumn={mutant.column_end}"])
    props.append(f"title={_property(title)}")
    return f"::error {','.join(props)}::{_data(chr(10).join(lines))}"


def workflow_commands(results: Results, limit: int = MAX_ANNOTATIONS) -> list[str]:
    """Return the commands for every mutant a reviewer must look at.

    Parameters
    ----------
    results
        A loaded result file.
    limit
        The most ``::error`` commands; the rest are counted in a notice.

    Returns
    -------
    list[str]
        Unkilled must-kill mutants first, then survivors by file and line,
        the languages taken in turn (so a cap keeps some of each).
    """
    ordered = sorted(
        (m for m in results.mutants if needs_review(m)),
        key=lambda m: (not is_must_kill(m), m.file, m.line_start, m.id),
    )
    # Past the cap, each language keeps its share (review_priority).
    found = [ordered[i] for i in review_priority(ordered)]
    commands = [annotation(m) for m in found[:limit]]
    rest = found[limit:]
    if rest:
        places = ", ".join(where(m) for m in rest[:10])
        commands.append(
            "::notice title=Mutation::"
            + _data(
                f"{len(rest)} more survivors not annotated (GitHub shows at most {limit}); "
                f"see the HTML report. First: {places}"
            )
        )
    return commands
