"""The Markdown summary: a pull-request comment that fits, or everything (``--full``).

Order: STALE warning, verdict, gates, module scores, the Rust phase's gates
and scores (or a note that it has not run), trend against the baseline, the must-kill table (unkilled rows first), survivors (unkilled
must-kill mutants first) with diffs and covering tests, the must-kill
evidence, unviable mutants (listed apart, never scored), excused mutants and
the per-test table.

By default the text stays under :data:`PR_LIMIT` characters whatever the
number of mutants: the verdict, gates and scores always appear; then, in
priority order, the must-kill rows of unkilled mutants, the survivors, the
rows of killed must-kill mutants (Python's and Rust's alike), their evidence and the long tables;
whatever does not fit is counted and pointed to the HTML report.  ``full=True`` keeps every
block (for a CI job summary, which has a larger limit).
"""

from __future__ import annotations

import pathlib
import typing as typ

from mutation.evidence import collect_evidence, evidence_markdown
from mutation.report_common import (
    STATUS_LABELS,
    count_statuses,
    is_must_kill,
    needs_review,
    per_test_rows,
    review_priority,
    stale_banner_text,
)
from mutation.report_markdown_blocks import (
    PR_LIMIT,
    Budget,
    cell,
    code,
    survivor_block,
    where,
)
from mutation.report_rust import combine, rust_markdown
from mutation.report_trend import Trend
from mutation.results import MutantResult, Results

__all__ = ["IDLE_TEST_NOTE", "PR_LIMIT", "cell", "code", "percent", "render_markdown"]

IDLE_TEST_NOTE = "kills nothing: worth a reviewer's look"
"""The note of a test that kills nothing (:attr:`PerTestRow.note`)."""
ARTIFACT = "`mutation-report.html` (the HTML report artifact)"
TREND_NAMED = 20
"""New survivors and newly killed mutants named before the rest are counted."""


def percent(value: float) -> str:
    """Format a 0-1 score as a percentage with one decimal.

    Parameters
    ----------
    value
        A fraction.

    Returns
    -------
    str
        For example ``97.5%``.
    """
    return f"{value * 100:.1f}%"


def _verdict(passed: bool) -> str:
    return "✅ pass" if passed else "❌ fail"


def _stale_block(stale: typ.Sequence[str]) -> list[str]:
    lines = [f"> ⚠️ **{stale_banner_text(stale)}** Changed inputs:", ">"]
    lines.extend(f"> - `{name}`" for name in stale)
    lines.append("")
    return lines


def _header(results: Results) -> list[str]:
    overall = "PASSED" if results.passed else "FAILED"
    counts = count_statuses(results.mutants)
    tally = ", ".join(f"{n} {STATUS_LABELS[status]}" for status, n in counts.items() if n)
    lines = [
        f"## Mutation testing: {overall}",
        "",
        f"Run of {results.created}: {len(results.mutants)} mutants"
        + (f" ({tally})" if tally else "")
        + ".",
    ]
    if results.selection:
        names = ", ".join(code(s) for s in results.selection)
        lines.extend(["", f"Review run limited to: {names}."])
    lines.append("")
    return lines


def _modules(results: Results, trend: Trend | None) -> list[str]:
    if not results.modules:
        return []
    baseline = trend.scores if trend is not None else {}
    lines = [
        "### Module scores (mutmut)",
        "",
        "| Module | Score | Threshold | Verdict | Killed | Survived | Timeout "
        "| No tests | Error | Excused | Total | Baseline |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results.modules:
        then = baseline.get(m.file)
        delta = "" if then is None else f"{percent(then)} ({(m.score - then) * 100:+.1f})"
        lines.append(
            f"| {code(m.file)} | {percent(m.score)} | {percent(m.threshold)} "
            f"| {_verdict(m.score >= m.threshold)} | {m.killed} | {m.survived} "
            f"| {m.timeout} | {m.no_tests} | {m.error} | {m.excused} | {m.total} | {delta} |"
        )
    lines.append("")
    return lines


def _gates(results: Results) -> list[str]:
    if not results.gates:
        return []
    lines = ["### Gates", "", "| Gate | Verdict | Detail |", "|---|---|---|"]
    lines.extend(
        f"| {cell(g.name)} | {_verdict(g.passed)} | {cell(g.detail)} |" for g in results.gates
    )
    lines.append("")
    return lines


def _trend(trend: Trend | None) -> list[str]:
    if trend is None:
        return []
    lines = ["### Trend", "", trend.note, ""]
    if not trend.known:
        return lines
    for title, changes in (
        ("New survivors", trend.new_survivors),
        ("Newly killed", trend.newly_killed),
    ):
        named = ", ".join(code(c.label) for c in changes[:TREND_NAMED])
        rest = len(changes) - TREND_NAMED
        lines.append(
            f"- {title}: {len(changes)}"
            + (f": {named}" if named else "")
            + (f" (+{rest} more)" if rest > 0 else "")
        )
    lines.extend([f"- New mutants: {trend.added}; gone: {trend.removed}", ""])
    return lines


_KILLERS_IN_TABLE = 3


def _killers_cell(mutant: MutantResult) -> str:
    if not mutant.killers:
        return "none"
    # Every killer and its message is listed in the mutant's evidence block.
    shown = ", ".join(
        code(k.test) + (f" ({k.language} test)" if k.language != mutant.language else "")
        for k in mutant.killers[:_KILLERS_IN_TABLE]
    )
    hidden = len(mutant.killers) - _KILLERS_IN_TABLE
    return shown + (f" (+{hidden} more)" if hidden > 0 else "")


UNKILLED_ROWS_SHARE = 0.4
"""At most this share of the budget goes to unkilled must-kill rows, so the
survivors' blocks (with their diffs) always get room."""


def _must_kill_rows(results: Results, budget: Budget, *, killed: bool) -> tuple[list[str], int]:
    """Return the must-kill rows of killed (or of unkilled) mutants that fit, and how many did not."""
    rows: list[str] = []
    left_out = 0
    cap = budget.share(UNKILLED_ROWS_SHARE) if not killed else budget
    for m in results.mutants:
        if not is_must_kill(m) or (m.status == "killed") != killed:
            continue
        status = STATUS_LABELS.get(m.status, m.status)
        mark = "✅" if m.status == "killed" else "❌"
        row = f"| {code(m.id)} | {cell(m.claim)} | {mark} {status} | {_killers_cell(m)} |"
        if cap.take(row) and (cap is budget or budget.take(row)):
            rows.append(row)
        else:
            left_out += 1
    return rows, left_out


def _must_kill_table(unkilled: tuple[list[str], int], killed: tuple[list[str], int]) -> list[str]:
    """Lay out the must-kill table: unkilled rows first, then the killed ones."""
    if not (unkilled[0] or unkilled[1] or killed[0] or killed[1]):
        return []
    lines = [
        "### Must-kill catalogue",
        "",
        "| Id | Claim | Status | Killed by |",
        "|---|---|---|---|",
        *unkilled[0],
    ]
    if unkilled[1]:
        lines.append(f"| ...and {unkilled[1]} more not killed | | | see {ARTIFACT} |")
    lines.extend(killed[0])
    if killed[1]:
        lines.append(f"| ...and {killed[1]} more killed | | | see {ARTIFACT} |")
    lines.append("")
    return lines


def _evidence(results: Results, budget: Budget) -> list[str]:
    if not collect_evidence(results):
        return []
    lines: list[str] = ["### Must-kill evidence", ""]
    left_out = 0
    for item in collect_evidence(results):
        block = evidence_markdown(item, compact=budget.limited)
        if budget.take(block):
            lines.append(block)
        else:
            left_out += 1
    if left_out:
        lines.extend([f"Evidence of {left_out} more must-kill mutants: see {ARTIFACT}.", ""])
    return lines


def _survivors(
    results: Results, root: pathlib.Path, budget: Budget, limit: int | None
) -> list[str]:
    found = sorted(
        (m for m in results.mutants if needs_review(m) and m.status != "unviable"),
        key=lambda m: (not is_must_kill(m), m.file, m.line_start, m.id),
    )
    lines = [f"### Survivors ({len(found)})", ""]
    if not found:
        lines.extend(["Every mutant in scope was killed or excused.", ""])
        return lines
    kept: dict[int, str] = {}
    order = review_priority(found)
    for index in order if limit is None else order[:limit]:
        block = survivor_block(found[index], root, compact=budget.limited)
        if not budget.take(block):
            break
        kept[index] = block
    # Budgeted in priority order, laid out in reading order.
    lines.extend(kept[index] for index in sorted(kept))
    shown = len(kept)
    if shown < len(found):
        lines.extend([f"...and {len(found) - shown} more; see {ARTIFACT}.", ""])
    return lines


def _listed(
    title: str,
    header: str,
    rows: list[str],
    budget: Budget,
) -> list[str]:
    if not rows:
        return []
    lines = [title, "", *header.split("\n")]
    kept = 0
    for row in rows:
        if not budget.take(row):
            break
        lines.append(row)
        kept += 1
    if kept < len(rows):
        lines.append(f"\n...and {len(rows) - kept} more; see {ARTIFACT}.")
    lines.append("")
    return lines


def _unviable(results: Results, budget: Budget) -> list[str]:
    found = [m for m in results.mutants if m.status == "unviable"]
    rows = [f"| {code(m.id)} | {code(where(m))} | {m.origin} |" for m in found]
    return _listed(
        f"### Unviable ({len(found)}, not scored)",
        "| Id | Where | Origin |\n|---|---|---|",
        rows,
        budget,
    )


def _excused(results: Results, budget: Budget) -> list[str]:
    found = [m for m in results.mutants if m.status == "excused"]
    rows = [
        f"| {code(m.id)} | {code(f'{m.file}:{m.line_start}')} "
        f"| {cell(m.excuse or '(no reason recorded)')} |"
        for m in found
    ]
    return _listed(
        f"### Excused ({len(found)})", "| Id | Where | Reason |\n|---|---|---|", rows, budget
    )


REVIEW_TESTS_NOTE = (
    "A review records one killer per mutant, so a test that kills nothing here"
    " is not idle; the full run's report tells."
)
"""The per-test table's caption in a review run."""


def _tests(results: Results, budget: Budget) -> list[str]:
    tallies = per_test_rows(results)
    review = bool(results.selection)
    # Idle tests first when the table is cut: they are the reviewer's question
    # (not in a review, which stops at each mutant's first killer).
    if budget.limited and not review:
        tallies = sorted(tallies, key=lambda t: not t.idle)
    rows = [
        f"| {code(t.test)} | {t.language} | {t.kills} | {t.sole_kills} "
        f"| {cell('' if review and t.idle else t.note)} |"
        for t in tallies
    ]
    return _listed(
        "### Tests",
        ("" if not review else f"{REVIEW_TESTS_NOTE}\n\n")
        + "| Test | Language | Kills | Sole kills | Note |\n|---|---|---:|---:|---|",
        rows,
        budget,
    )


def render_markdown(
    results: Results,
    *,
    stale: list[str],
    root: pathlib.Path | None = None,
    limit: int | None = None,
    full: bool = False,
    trend: Trend | None = None,
    max_chars: int = PR_LIMIT,
    rust: Results | None = None,
    rust_note: str = "",
) -> str:
    """Render the run as Markdown.

    Parameters
    ----------
    results
        A loaded result file.
    stale
        Inputs changed since the run; when non-empty the text opens with a
        STALE warning listing them.
    root
        The project root, to read survivors' source lines (default: the
        current directory).
    limit
        Show at most this many survivors in detail (default: as many as fit).
    full
        Keep every block, whatever the length (a CI job summary).
    trend
        The comparison with the baseline, when known.
    max_chars
        The length the summary stays under unless ``full``.
    rust
        The Rust phase's results: its mutants join every block, its gates
        and scores get a section of their own.
    rust_note
        Said in that section when there are no Rust results.

    Returns
    -------
    str
        The summary.
    """
    base = pathlib.Path() if root is None else root
    budget = Budget(None if full else max_chars)
    python = results
    results = combine(python, rust)
    fixed: list[str] = []
    if stale:
        fixed.extend(_stale_block(stale))
    fixed.extend(_header(results))
    fixed.extend(_gates(python))
    fixed.extend(_modules(python, trend))
    fixed.extend(rust_markdown(rust, rust_note))
    fixed.extend(_trend(trend))
    budget.spend("\n".join(fixed))
    # Blocks are budgeted in priority order, then laid out in reading order.
    unkilled = _must_kill_rows(results, budget, killed=False)
    survivors = _survivors(results, base, budget, limit)
    table = _must_kill_table(unkilled, _must_kill_rows(results, budget, killed=True))
    evidence = _evidence(results, budget)
    unviable = _unviable(results, budget)
    excused = _excused(results, budget)
    tests = _tests(results, budget)
    lines = [*fixed, *table, *survivors, *evidence, *unviable, *excused, *tests]
    if budget.limited:
        lines.append(f"_Full report: {ARTIFACT}; `--full` for the whole summary._")
    return "\n".join(lines).rstrip("\n") + "\n"
