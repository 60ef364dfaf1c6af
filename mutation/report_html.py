"""The HTML report: one self-contained page (inline CSS and JS, no network).

Each target file's source is shown with line numbers and its mutants inline
under the line they start on, coloured by status.  Checkboxes filter by
status; the page reads ``#status=survived,timeout`` (or ``?status=...``) at
load so a link can open it pre-filtered.  Every piece of source, diff or
message text goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import pathlib
import typing as typ

from mutation.evidence import collect_evidence, diff_html, evidence_html
from mutation.report_common import (
    PROBLEM_STATUSES,
    STATUS_LABELS,
    STATUSES,
    count_statuses,
    is_must_kill,
    read_source,
    stale_banner_text,
    target_files,
)
from mutation.results import MutantResult, Results

esc = html.escape

LINE_PRIORITY: tuple[str, ...] = (
    "survived",
    "no_tests",
    "timeout",
    "error",
    "killed",
    "excused",
    "not_run",
    "unviable",
)
"""A line takes the colour of the first of these statuses among its mutants."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2rem 3rem; color: #1d2125; }
h1 { margin-top: 1rem; }
code, pre, .src { font-family: ui-monospace, Menlo, Consolas, monospace; }
table.grid { border-collapse: collapse; margin: .5rem 0 1rem; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: 2px 8px;
  text-align: left; vertical-align: top; }
.stale { background: #fff3cd; border: 2px solid #d39e00; padding: .75rem 1rem;
  margin-top: 1rem; font-weight: 600; }
.pass { color: #1a7f37; } .fail { color: #cf222e; font-weight: 600; }
#filter { position: sticky; top: 0; background: #fff; padding: .5rem 0;
  border-bottom: 1px solid #d0d7de; z-index: 1; }
#filter label { margin-right: 1rem; white-space: nowrap; }
#filter button { margin-right: .5rem; }
table.source { border-collapse: collapse; width: 100%; }
table.source td { padding: 0 6px; vertical-align: top; }
td.ln { color: #6e7781; text-align: right; user-select: none; width: 3.5em; }
td.src { white-space: pre; }
tr.line.worst-survived, tr.line.worst-no_tests { background: #ffebe9; }
tr.line.worst-timeout, tr.line.worst-error { background: #fff1e0; }
tr.line.worst-killed { background: #e6ffec; }
.mutant { margin: 2px 0 4px; padding: 2px 6px; border-left: 4px solid #8c959f;
  background: #f6f8fa; white-space: normal; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff;
  font-size: 12px; background: #6e7781; }
.status-killed.badge, .mutant.status-killed { border-color: #1a7f37; }
.badge.status-killed { background: #1a7f37; }
.mutant.status-survived { border-color: #cf222e; }
.badge.status-survived { background: #cf222e; }
.mutant.status-timeout { border-color: #bc4c00; }
.badge.status-timeout { background: #bc4c00; }
.mutant.status-no_tests { border-color: #9a6700; }
.badge.status-no_tests { background: #9a6700; }
.mutant.status-error { border-color: #8250df; }
.badge.status-error { background: #8250df; }
.mutant.status-excused { border-color: #0969da; }
.badge.status-excused { background: #0969da; }
.mutant.status-not_run { border-color: #afb8c1; }
.badge.status-not_run { background: #afb8c1; color: #1d2125; }
.mutant.status-unviable { border-color: #d0d7de; }
.badge.status-unviable { background: #d0d7de; color: #1d2125; }
pre.diff .add { background: #e6ffec; } pre.diff .del { background: #ffebe9; }
pre.diff .hunk { color: #6e7781; }
pre { background: #f6f8fa; padding: 4px 8px; overflow-x: auto; margin: 4px 0; }
.evidence { margin: .3rem 0; }
.note { color: #6e7781; }
[hidden] { display: none !important; }
"""

SCRIPT = """
(function () {
  "use strict";
  var boxes = Array.prototype.slice.call(
    document.querySelectorAll("input.status-filter"));
  var mutants = Array.prototype.slice.call(document.querySelectorAll(".mutant"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.mutants"));
  var counter = document.getElementById("visible-count");
  var problems = ["survived", "timeout", "no_tests", "error"];

  function requested() {
    var text = location.hash.replace(/^#/, "") + "&" +
      location.search.replace(/^\\?/, "");
    var match = /(?:^|&)status=([^&]*)/.exec(text);
    if (!match) { return null; }
    return decodeURIComponent(match[1]).split(",").filter(Boolean);
  }

  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.value] = box.checked; });
    var shown = 0;
    mutants.forEach(function (el) {
      var visible = on[el.getAttribute("data-status")] === true;
      el.hidden = !visible;
      if (visible) { shown += 1; }
    });
    rows.forEach(function (row) {
      row.hidden = row.querySelector(".mutant:not([hidden])") === null;
    });
    counter.textContent = "Showing " + shown + " of " + mutants.length + " mutants";
    counter.setAttribute("data-visible", String(shown));
  }

  function select(wanted) {
    boxes.forEach(function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
    apply();
  }

  function fromUrl() {
    var wanted = requested();
    if (wanted) { select(wanted); } else { apply(); }
  }

  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  document.getElementById("show-all").addEventListener("click", function () {
    select(boxes.map(function (box) { return box.value; }));
  });
  document.getElementById("show-problems").addEventListener("click", function () {
    select(problems);
  });
  window.addEventListener("hashchange", fromUrl);
  fromUrl();
}());
"""


def _stale(stale: typ.Sequence[str]) -> str:
    items = "".join(f"<li><code>{esc(name)}</code></li>" for name in stale)
    return (
        f'<div id="stale-banner" class="stale" role="alert">'
        f"<p>{esc(stale_banner_text(stale))}</p><ul>{items}</ul></div>"
    )


def _verdict(passed: bool) -> str:
    return '<span class="pass">pass</span>' if passed else '<span class="fail">fail</span>'


def _summary(results: Results) -> str:
    parts = ['<section id="summary">']
    if results.modules:
        parts.append(
            '<h2>Module scores (mutmut)</h2><table class="grid" id="modules">'
            "<tr><th>Module</th><th>Score</th><th>Threshold</th><th>Verdict</th>"
            "<th>Killed</th><th>Survived</th><th>Timeout</th><th>No tests</th>"
            "<th>Error</th><th>Excused</th><th>Total</th></tr>"
        )
        parts.extend(
            f"<tr><td><code>{esc(m.file)}</code></td><td>{m.score * 100:.1f}%</td>"
            f"<td>{m.threshold * 100:.1f}%</td>"
            f"<td>{_verdict(m.score >= m.threshold)}</td><td>{m.killed}</td>"
            f"<td>{m.survived}</td><td>{m.timeout}</td><td>{m.no_tests}</td>"
            f"<td>{m.error}</td><td>{m.excused}</td><td>{m.total}</td></tr>"
            for m in results.modules
        )
        parts.append("</table>")
    if results.gates:
        parts.append(
            '<h2>Gates</h2><table class="grid" id="gates">'
            "<tr><th>Gate</th><th>Verdict</th><th>Detail</th></tr>"
        )
        parts.extend(
            f"<tr><td>{esc(g.name)}</td><td>{_verdict(g.passed)}</td><td>{esc(g.detail)}</td></tr>"
            for g in results.gates
        )
        parts.append("</table>")
    parts.append("</section>")
    return "\n".join(parts)


def _filter(results: Results) -> str:
    counts = count_statuses(results.mutants)
    boxes = "".join(
        f'<label><input type="checkbox" class="status-filter" value="{status}" '
        f'checked> <span class="badge status-{status}">{STATUS_LABELS[status]}'
        f'</span> (<span class="status-count" data-status="{status}">'
        f"{counts[status]}</span>)</label>"
        for status in STATUSES
    )
    total = len(results.mutants)
    return (
        '<section id="filter"><div>'
        f"{boxes}</div><div>"
        '<button type="button" id="show-all">all</button>'
        '<button type="button" id="show-problems">survivors only</button>'
        f'<span id="visible-count" data-visible="{total}">'
        f"Showing {total} of {total} mutants</span></div></section>"
    )


def _must_kill(results: Results, anchors: dict[int, str]) -> str:
    entries = [(i, m) for i, m in enumerate(results.mutants) if is_must_kill(m)]
    if not entries:
        return ""
    rows = []
    for index, m in entries:
        killers = ", ".join(f"<code>{esc(k.test)}</code>" for k in m.killers)
        rows.append(
            f'<tr data-status="{esc(m.status)}"><td>'
            f'<a href="#{anchors[index]}"><code>{esc(m.id)}</code></a></td>'
            f"<td>{esc(m.claim)}</td><td>"
            f'<span class="badge status-{esc(m.status)}">'
            f"{esc(STATUS_LABELS.get(m.status, m.status))}</span></td>"
            f"<td>{killers or 'none'}</td></tr>"
        )
    blocks = "\n".join(evidence_html(item) for item in collect_evidence(results))
    return (
        '<section id="must-kill"><h2>Must-kill catalogue</h2>'
        '<table class="grid"><tr><th>Id</th><th>Claim</th><th>Status</th>'
        "<th>Killed by</th></tr>" + "".join(rows) + "</table>"
        f"<h3>Evidence</h3>{blocks}</section>"
    )


def _mutant(mutant: MutantResult, anchor: str) -> str:
    status = esc(mutant.status)
    label = esc(STATUS_LABELS.get(mutant.status, mutant.status))
    what = (
        f"<strong>must-kill</strong> {esc(mutant.claim)}"
        if is_must_kill(mutant)
        else esc(mutant.mutator or "mutmut")
    )
    killers = ", ".join(f"<code>{esc(k.test)}</code>" for k in mutant.killers)
    extra = []
    if killers:
        extra.append(f" killed by {killers}")
    if mutant.excuse:
        extra.append(f' <span class="note">excused: {esc(mutant.excuse)}</span>')
    if mutant.detail:
        extra.append(f' <span class="note">{esc(mutant.detail)}</span>')
    lines = (
        f"line {mutant.line_start}"
        if mutant.line_end <= mutant.line_start
        else f"lines {mutant.line_start}-{mutant.line_end}"
    )
    opened = " open" if mutant.status in PROBLEM_STATUSES else ""
    return (
        f'<div class="mutant status-{status}" data-status="{status}" '
        f'data-id="{esc(mutant.id)}" id="{anchor}">'
        f'<span class="badge status-{status}">{label}</span> '
        f"<code>{esc(mutant.id)}</code> {what}{''.join(extra)}"
        f"<details{opened}><summary>diff ({lines})</summary>"
        f'<pre class="diff">{diff_html(mutant.diff)}</pre></details>'
        "</div>"
    )


def _worst(mutants: list[MutantResult]) -> str:
    present = {m.status for m in mutants}
    return next((s for s in LINE_PRIORITY if s in present), "")


def _file(
    index: int,
    file: str,
    source: str | None,
    mutants: list[tuple[int, MutantResult]],
    anchors: dict[int, str],
) -> str:
    lines = [] if source is None else source.splitlines()
    by_line: dict[int, list[tuple[int, MutantResult]]] = {}
    outside: list[tuple[int, MutantResult]] = []
    for number, mutant in mutants:
        if 1 <= mutant.line_start <= len(lines):
            by_line.setdefault(mutant.line_start, []).append((number, mutant))
        else:
            outside.append((number, mutant))
    rows = []
    for n, text in enumerate(lines, start=1):
        here = by_line.get(n, [])
        worst = _worst([m for _, m in here])
        css = f"line worst-{worst}" if worst else "line"
        rows.append(
            f'<tr class="{css}" id="f{index}-L{n}"><td class="ln">{n}</td>'
            f'<td class="src">{esc(text)}</td></tr>'
        )
        if here:
            blocks = "".join(_mutant(m, anchors[i]) for i, m in here)
            rows.append(f'<tr class="mutants"><td></td><td>{blocks}</td></tr>')
    counts = count_statuses(m for _, m in mutants)
    tally = ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in counts.items() if n)
    parts = [
        f'<section class="file" data-file="{esc(file)}">',
        f"<h2><code>{esc(file)}</code></h2>",
        f'<p class="note">{len(mutants)} mutants{": " + tally if tally else ""}</p>',
    ]
    if source is None:
        parts.append('<p class="note">Source file unavailable.</p>')
    if outside:
        blocks = "".join(_mutant(m, anchors[i]) for i, m in outside)
        parts.append(
            '<table class="source"><tr class="mutants"><td></td><td>'
            f'<p class="note">Outside the current file:</p>{blocks}</td></tr></table>'
        )
    parts.append(f'<table class="source">{"".join(rows)}</table></section>')
    return "\n".join(parts)


def _tests(results: Results) -> str:
    if not results.tests:
        return ""
    ordered = sorted(results.tests, key=lambda t: (-t.kills, -t.sole_kills, t.test))
    rows = "".join(
        f"<tr><td><code>{esc(t.test)}</code></td><td>{t.kills}</td>"
        f"<td>{t.sole_kills}</td><td>"
        + ("kills nothing: worth a reviewer's look" if t.kills == 0 else "")
        + "</td></tr>"
        for t in ordered
    )
    return (
        '<section id="tests"><h2>Tests</h2><table class="grid"><tr><th>Test</th>'
        f"<th>Kills</th><th>Sole kills</th><th>Note</th></tr>{rows}</table></section>"
    )


def render_html(results: Results, root: pathlib.Path, *, stale: typ.Sequence[str] = ()) -> str:
    """Render the run as one self-contained HTML page.

    Parameters
    ----------
    results
        A loaded result file.
    root
        The project root; target files' source is read from here.
    stale
        Inputs changed since the run; when non-empty a STALE banner opens
        the page.

    Returns
    -------
    str
        The page: summary, status filter, must-kill table with evidence,
        annotated sources and per-test kills.
    """
    anchors = {i: f"m{i}" for i in range(len(results.mutants))}
    overall = "PASSED" if results.passed else "FAILED"
    files = target_files((m.file for m in results.modules), results.mutants)
    sections = [
        _file(
            index,
            file,
            read_source(root, file),
            [(i, m) for i, m in enumerate(results.mutants) if m.file == file],
            anchors,
        )
        for index, file in enumerate(files)
    ]
    body = [
        _stale(stale) if stale else "",
        f"<h1>Mutation testing: {overall}</h1>",
        f'<p class="note">Run of {esc(results.created)}; {len(results.mutants)} mutants.</p>',
        _summary(results),
        _filter(results),
        _must_kill(results, anchors),
        '<section id="files">',
        *sections,
        "</section>",
        _tests(results),
    ]
    title = "STALE mutation report" if stale else "Mutation report"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
