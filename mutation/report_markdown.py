"""The Markdown summary: for a PR comment, a CI job summary or the terminal."""

from __future__ import annotations

import pathlib
import re
import typing as typ

from mutation.evidence import collect_evidence, evidence_markdown, fence, shorten
from mutation.report_common import (
    STATUS_LABELS,
    count_statuses,
    is_must_kill,
    read_source,
    source_excerpt,
    stale_banner_text,
    survivors,
)
from mutation.results import MutantResult, Results

TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
ENTITY = re.compile(r"&(?=#?\w+;)")
IDLE_TEST_NOTE = "kills nothing: worth a reviewer's look"


def cell(text: str) -> str:
    """Make ``text`` safe inside a Markdown table cell.

    Parameters
    ----------
    text
        Free text (a claim, a detail, a reason).

    Returns
    -------
    str
        One line, with pipes escaped, and ``<`` and ``&`` escaped where
        they could start an HTML tag or entity.
    """
    flat = " ".join(text.split())
    flat = ENTITY.sub("&amp;", flat)
    return TAG_START.sub("&lt;", flat).replace("|", "\\|")


def code(text: str) -> str:
    """Render ``text`` as an inline code span that survives a table cell.

    Parameters
    ----------
    text
        An identifier such as a mutant id or a pytest node id.

    Returns
    -------
    str
        A code span using more backticks than ``text`` contains in a row.
    """
    flat = " ".join(text.split()).replace("|", "\\|")
    longest = 0
    run = 0
    for char in flat:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


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
        lines.append("")
        lines.append(f"Review run limited to: {names}.")
    lines.append("")
    return lines


def _modules(results: Results) -> list[str]:
    if not results.modules:
        return []
    lines = [
        "### Module scores (mutmut)",
        "",
        "| Module | Score | Threshold | Verdict | Killed | Survived | Timeout "
        "| No tests | Error | Excused | Total |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results.modules:
        lines.append(
            f"| {code(m.file)} | {percent(m.score)} | {percent(m.threshold)} "
            f"| {_verdict(m.score >= m.threshold)} | {m.killed} | {m.survived} "
            f"| {m.timeout} | {m.no_tests} | {m.error} | {m.excused} | {m.total} |"
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


_KILLERS_IN_TABLE = 3


def _killers_cell(mutant: MutantResult) -> str:
    if not mutant.killers:
        return "none"
    # The table stays short enough for a pull-request comment; every killer
    # and its message is listed in the mutant's evidence block below.
    shown = ", ".join(code(k.test) for k in mutant.killers[:_KILLERS_IN_TABLE])
    hidden = len(mutant.killers) - _KILLERS_IN_TABLE
    return shown + (f" (+{hidden} more)" if hidden > 0 else "")


def _must_kill(results: Results) -> list[str]:
    entries = [m for m in results.mutants if is_must_kill(m)]
    if not entries:
        return []
    lines = [
        "### Must-kill catalogue",
        "",
        "| Id | Claim | Status | Killed by |",
        "|---|---|---|---|",
    ]
    for m in entries:
        status = STATUS_LABELS.get(m.status, m.status)
        mark = "✅" if m.status == "killed" else "❌"
        lines.append(f"| {code(m.id)} | {cell(m.claim)} | {mark} {status} | {_killers_cell(m)} |")
    lines.append("")
    lines.extend(evidence_markdown(item) for item in collect_evidence(results))
    return lines


def _survivor(mutant: MutantResult, root: pathlib.Path) -> list[str]:
    status = STATUS_LABELS.get(mutant.status, mutant.status)
    where = f"{mutant.file}:{mutant.line_start}"
    kind = "must-kill " if is_must_kill(mutant) else ""
    lines = [
        f"#### {code(mutant.id)}: {kind}{status} at {code(where)}"
        + (f" in {code(mutant.function)}" if mutant.function else ""),
        "",
    ]
    if mutant.detail:
        lines.append(f"Detail: {cell(shorten(mutant.detail, 3))}")
        lines.append("")
    lines.append(fence(mutant.diff or "(no diff recorded)", "diff"))
    excerpt = source_excerpt(read_source(root, mutant.file), mutant.line_start, mutant.line_end)
    if excerpt:
        width = len(str(excerpt[-1][0]))
        numbered = "\n".join(f"{n:>{width}} | {text}" for n, text in excerpt)
        lines.append("Source:")
        lines.append("")
        lines.append(fence(numbered, "python"))
    elif mutant.original:
        lines.append("Original (source file unreadable):")
        lines.append("")
        lines.append(fence(mutant.original, "python"))
    return lines


def _survivors(results: Results, root: pathlib.Path, limit: int | None) -> list[str]:
    found = survivors(results.mutants)
    lines = [f"### Survivors ({len(found)})", ""]
    if not found:
        lines.extend(["Every mutant in scope was killed or excused.", ""])
        return lines
    shown = found if limit is None else found[:limit]
    for mutant in shown:
        lines.extend(_survivor(mutant, root))
    if len(shown) < len(found):
        rest = len(found) - len(shown)
        lines.append(f"...and {rest} more; see `mutation-report.html`.")
        lines.append("")
    return lines


def _excused(results: Results) -> list[str]:
    excused = [m for m in results.mutants if m.status == "excused"]
    if not excused:
        return []
    lines = [
        f"### Excused ({len(excused)})",
        "",
        "| Id | Where | Reason |",
        "|---|---|---|",
    ]
    lines.extend(
        f"| {code(m.id)} | {code(f'{m.file}:{m.line_start}')} "
        f"| {cell(m.excuse or '(no reason recorded)')} |"
        for m in excused
    )
    lines.append("")
    return lines


def _tests(results: Results) -> list[str]:
    if not results.tests:
        return []
    lines = [
        "### Tests",
        "",
        "| Test | Kills | Sole kills | Note |",
        "|---|---:|---:|---|",
    ]
    ordered = sorted(results.tests, key=lambda t: (-t.kills, -t.sole_kills, t.test))
    lines.extend(
        f"| {code(t.test)} | {t.kills} | {t.sole_kills} "
        f"| {IDLE_TEST_NOTE if t.kills == 0 else ''} |"
        for t in ordered
    )
    lines.append("")
    return lines


def render_markdown(
    results: Results,
    *,
    stale: list[str],
    root: pathlib.Path | None = None,
    limit: int | None = None,
) -> str:
    """Render the run as Markdown.

    Parameters
    ----------
    results
        A loaded result file.
    stale
        Inputs changed since the run (from
        :func:`mutation.results.stale_inputs`); when non-empty the text
        opens with a STALE warning listing them.
    root
        The project root, to read survivors' source lines (default: the
        current directory).
    limit
        Show at most this many survivors in detail (default: all).

    Returns
    -------
    str
        Module scores, gates, the must-kill table with evidence, survivors
        with diffs and source, excused mutants and per-test kills.
    """
    base = pathlib.Path() if root is None else root
    lines: list[str] = []
    if stale:
        lines.extend(_stale_block(stale))
    lines.extend(_header(results))
    lines.extend(_modules(results))
    lines.extend(_gates(results))
    lines.extend(_must_kill(results))
    lines.extend(_survivors(results, base, limit))
    lines.extend(_excused(results))
    lines.extend(_tests(results))
    return "\n".join(lines).rstrip("\n") + "\n"
