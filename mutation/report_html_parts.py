"""Pieces of the HTML report: summary tables, a mutant's card, the per-test view.

Every piece of source, diff, message or name goes through :func:`html.escape`.
"""

from __future__ import annotations

import html

from mutation.evidence import collect_evidence, diff_html, evidence_html, shorten
from mutation.report_common import (
    STATUS_LABELS,
    is_must_kill,
    needs_review,
    per_test_rows,
    replay_for,
)
from mutation.report_trend import Trend
from mutation.results import MutantResult, Results

esc = html.escape

COVERING_SHOWN = 8
"""Covering tests listed before the rest are folded away."""


def verdict(passed: bool) -> str:
    """Return a coloured pass/fail word."""
    return '<span class="pass">pass</span>' if passed else '<span class="fail">fail</span>'


def badge(status: str) -> str:
    """Return a status badge."""
    label = esc(STATUS_LABELS.get(status, status))
    return f'<span class="badge status-{esc(status)}">{label}</span>'


def summary_html(results: Results, trend: Trend | None) -> str:
    """Return the gates, module scores and trend tables."""
    parts = ['<section id="summary">']
    if results.gates:
        parts.append(
            '<h2>Gates</h2><table class="grid" id="gates">'
            "<tr><th>Gate</th><th>Verdict</th><th>Detail</th></tr>"
        )
        parts.extend(
            f"<tr><td>{esc(g.name)}</td><td>{verdict(g.passed)}</td><td>{esc(g.detail)}</td></tr>"
            for g in results.gates
        )
        parts.append("</table>")
    if results.modules:
        parts.append(
            '<h2>Module scores</h2><table class="grid" id="modules">'
            "<tr><th>Module</th><th class=num>Score</th><th class=num>Threshold</th>"
            "<th>Verdict</th><th class=num>Killed</th><th class=num>Survived</th>"
            "<th class=num>Timeout</th><th class=num>No tests</th><th class=num>Error</th>"
            "<th class=num>Excused</th><th class=num>Total</th></tr>"
        )
        parts.extend(
            f"<tr><td><code>{esc(m.file)}</code></td><td class=num>{m.score * 100:.1f}%</td>"
            f"<td class=num>{m.threshold * 100:.1f}%</td>"
            f"<td>{verdict(m.score >= m.threshold)}</td><td class=num>{m.killed}</td>"
            f"<td class=num>{m.survived}</td><td class=num>{m.timeout}</td>"
            f"<td class=num>{m.no_tests}</td><td class=num>{m.error}</td>"
            f"<td class=num>{m.excused}</td><td class=num>{m.total}</td></tr>"
            for m in results.modules
        )
        parts.append("</table>")
    if trend is not None:
        parts.append(trend_html(trend))
    parts.append("</section>")
    return "\n".join(parts)


def trend_html(trend: Trend) -> str:
    """Return the trend against the baseline as a short list."""
    if not trend.known:
        return f'<h2>Trend</h2><p class="note" id="trend">{esc(trend.note)}</p>'
    items = [
        f"<li>New survivors: {len(trend.new_survivors)}"
        + "".join(f" <code>{esc(k.label)}</code>" for k in trend.new_survivors[:20])
        + "</li>",
        f"<li>Newly killed: {len(trend.newly_killed)}"
        + "".join(f" <code>{esc(k.label)}</code>" for k in trend.newly_killed[:20])
        + "</li>",
        f"<li>New mutants: {trend.added}; gone: {trend.removed}</li>",
    ]
    return (
        f'<h2>Trend</h2><p class="note">{esc(trend.note)}</p><ul id="trend">{"".join(items)}</ul>'
    )


def _where(mutant: MutantResult) -> str:
    where = f"{mutant.file}:{mutant.line_start}"
    if mutant.column_start:
        where += f":{mutant.column_start}"
    if mutant.line_end > mutant.line_start:
        where += f"-{mutant.line_end}"
    return where


def mutant_html(mutant: MutantResult, anchor: str) -> str:
    """Return one mutant's card: diff, status, killers, covering tests, replay.

    Parameters
    ----------
    mutant
        The mutant.
    anchor
        The card's element id.

    Returns
    -------
    str
        An ``<article class="mutant">`` (its body in ``details.card-body``,
        open when the mutant needs review) carrying ``data-status``,
        ``data-origin``, ``data-file`` and ``data-id`` for the filters.
    """
    must = is_must_kill(mutant)
    title = [
        badge(mutant.status),
        f"<code>{esc(mutant.id)}</code>",
        f'<span class="note">{esc(mutant.origin)} · {esc(mutant.mutator or "mutant")} · '
        f"{esc(_where(mutant))}</span>",
    ]
    if must:
        title.append(f"<strong>must-kill</strong> <span>{esc(mutant.claim)}</span>")
    body = [f'<pre class="diff">{diff_html(mutant.diff or "(no diff recorded)")}</pre>']
    if mutant.killers:
        body.append(f'<div class="killers"><strong>{esc(killed_by(mutant))}</strong><ul>')
        body.extend(
            f'<li><code>{esc(k.test)}</code> <span class="lang">{esc(k.language)}</span>'
            f'<pre class="wrap">{esc(shorten(k.message, 8) or "(no message)")}</pre></li>'
            for k in mutant.killers
        )
        body.append("</ul></div>")
    elif mutant.status not in {"killed", "not_run"}:
        body.append('<p class="facts"><strong>No test killed this mutant.</strong></p>')
    if mutant.excuse:
        body.append(f'<p class="facts">Excused: {esc(mutant.excuse)}</p>')
    if mutant.detail:
        body.append(f'<pre class="wrap detail">{esc(shorten(mutant.detail, 8))}</pre>')
    body.append(_covering(mutant.tests))
    replay = replay_for(mutant)
    if replay:
        body.append(f'<p class="facts">Replay: <code class="replay">{esc(replay)}</code></p>')
    return (
        f'<article class="mutant status-{esc(mutant.status)}" id="{anchor}" '
        f'data-status="{esc(mutant.status)}" data-origin="{esc(mutant.origin)}" '
        f'data-file="{esc(mutant.file)}" data-id="{esc(mutant.id)}" '
        f'data-review="{str(needs_review(mutant)).lower()}">'
        f"<header>{' '.join(title)}</header>"
        # A killed mutant beside a survivor stays folded to its header; the
        # marker's click unfolds every card of its line.
        f'<details class="card-body"{" open" if needs_review(mutant) else ""}>'
        f"<summary>diff, tests, replay</summary>{''.join(body)}</details></article>"
    )


def killed_by(mutant: MutantResult) -> str:
    """Return the heading of a mutant's killers, naming a cross-language kill.

    A Rust mutant that ``cargo test`` missed and a Python test killed reads
    "Killed by a Python test"; killers of the mutant's own language, "Killed by".
    """
    others = sorted({k.language for k in mutant.killers} - {mutant.language})
    if not others:
        return "Killed by"
    return "Killed by a " + " and a ".join(lang.capitalize() for lang in others) + " test"


def _covering(tests: list[str]) -> str:
    if not tests:
        return '<p class="facts covering note">No covering tests recorded.</p>'
    shown = "".join(f"<li><code>{esc(t)}</code></li>" for t in tests[:COVERING_SHOWN])
    rest = tests[COVERING_SHOWN:]
    more = (
        f"<details><summary>{len(rest)} more</summary><ul>"
        + "".join(f"<li><code>{esc(t)}</code></li>" for t in rest)
        + "</ul></details>"
        if rest
        else ""
    )
    return (
        f'<div class="covering"><strong>Covering tests ({len(tests)}, fastest first)</strong>'
        f"<ul>{shown}</ul>{more}</div>"
    )


REVIEW_LISTED = 200
"""Mutants listed in the "needs review" index before the rest are counted."""


def review_index_html(results: Results, anchors: dict[int, str]) -> str:
    """Return links to every survivor and unkilled must-kill mutant, by file and line."""
    found = sorted(
        ((i, m) for i, m in enumerate(results.mutants) if needs_review(m)),
        key=lambda pair: (not is_must_kill(pair[1]), pair[1].file, pair[1].line_start),
    )
    if not found:
        return (
            '<section id="needs-review"><h2>Needs review (0)</h2>'
            '<p class="note">Every mutant in scope was killed or excused.</p></section>'
        )
    items = "".join(
        f'<li><a href="#{anchors[i]}"><code>{esc(_where(m))}</code></a> {badge(m.status)} '
        f"<code>{esc(m.id)}</code>"
        + (" <strong>must-kill</strong>" if is_must_kill(m) else "")
        + "</li>"
        for i, m in found[:REVIEW_LISTED]
    )
    more = (
        f'<p class="note">...and {len(found) - REVIEW_LISTED} more: use the filters.</p>'
        if len(found) > REVIEW_LISTED
        else ""
    )
    return (
        f'<section id="needs-review"><h2>Needs review ({len(found)})</h2>'
        f'<ul class="review-list">{items}</ul>{more}</section>'
    )


def must_kill_html(results: Results, anchors: dict[int, str]) -> str:
    """Return the must-kill table (linking to each card) and the evidence blocks."""
    entries = [(i, m) for i, m in enumerate(results.mutants) if is_must_kill(m)]
    if not entries:
        return ""
    rows = []
    for index, m in entries:
        killers = ", ".join(
            f"<code>{esc(k.test)}</code>"
            + (
                f' <span class="lang">{esc(k.language)} test</span>'
                if k.language != m.language
                else ""
            )
            for k in m.killers[:3]
        )
        more = f" (+{len(m.killers) - 3})" if len(m.killers) > 3 else ""
        rows.append(
            f'<tr data-status="{esc(m.status)}"><td>'
            f'<a href="#{anchors[index]}"><code>{esc(m.id)}</code></a></td>'
            f"<td>{esc(m.claim)}</td><td>{badge(m.status)}</td>"
            f"<td>{killers + more if killers else 'none'}</td></tr>"
        )
    blocks = "\n".join(evidence_html(item) for item in collect_evidence(results))
    return (
        '<section id="must-kill"><h2>Must-kill catalogue</h2>'
        '<table class="grid"><tr><th>Id</th><th>Claim</th><th>Status</th>'
        "<th>Killed by</th></tr>" + "".join(rows) + "</table>"
        f"<h3>Evidence</h3>{blocks}</section>"
    )


def tests_html(results: Results) -> str:
    """Return the per-test view: kills, sole kills, covered mutants, duration; sortable."""
    rows = per_test_rows(results)
    if not rows:
        return ""
    body = "".join(
        f'<tr class="{"idle" if r.idle else ""}" data-test="{esc(r.test)}">'
        f'<td data-value="{esc(r.test)}"><code>{esc(r.test)}</code></td>'
        f'<td class=num data-value="{r.kills}">{r.kills}</td>'
        f'<td class=num data-value="{r.sole_kills}">{r.sole_kills}</td>'
        f'<td class=num data-value="{r.covers}">{r.covers}</td>'
        f'<td class=num data-value="{r.duration:.6f}">{r.duration:.3f} s</td>'
        f'<td data-value="{int(r.idle)}">'
        + esc(r.note)
        + f'</td><td class="test-lang" data-value="{esc(r.language)}">{esc(r.language)}</td></tr>'
        for r in rows
    )
    idle = sum(1 for r in rows if r.idle)
    return (
        '<section id="tests"><h2>Tests</h2>'
        f'<p class="note">{len(rows)} tests; {idle} kill nothing. '
        "Click a column to sort.</p>"
        '<table class="grid" id="tests-table"><thead><tr>'
        '<th data-type="text">Test</th><th data-type="number" class=num>Kills</th>'
        '<th data-type="number" class=num>Sole kills</th>'
        '<th data-type="number" class=num>Covers</th>'
        '<th data-type="number" class=num>Duration</th><th data-type="number">Note</th>'
        '<th data-type="text">Language</th>'
        f"</tr></thead><tbody>{body}</tbody></table></section>"
    )
