"""The HTML report for review: one self-contained page (inline CSS and JS, no network).

Layout, top to bottom: the gates, module scores, the Rust phase's gates
and scores (or a note that it has not run) and trend; links to every
mutant that needs review (survivors, unkilled must-kill); a sticky filter
bar (status, origin, module); a file tree of every mutated file (with its
language and counts by status) beside the annotated sources; the must-kill
table with its evidence; the per-test view.

Each source line with mutants carries a compact marker: one pill per status
with its count.  Lines with a survivor or an unkilled must-kill mutant open
their mutants' cards by default; the others (all killed) stay folded until
their marker is clicked.  Code is highlighted with Pygments when the report
is written.  The page reads ``#status=...&origin=...&module=...`` (or the
query string) at load, so a link can open it pre-filtered.
"""

from __future__ import annotations

import html
import pathlib
import typing as typ

from mutation.report_common import (
    STATUS_LABELS,
    STATUSES,
    count_statuses,
    language_of,
    needs_review,
    read_source,
    stale_banner_text,
    target_files,
)
from mutation.report_highlight import HIGHLIGHT_CLASS, highlight_lines
from mutation.report_html_assets import CSP, SCRIPT, STYLE
from mutation.report_html_parts import (
    must_kill_html,
    mutant_html,
    review_index_html,
    summary_html,
    tests_html,
)
from mutation.report_rust import combine, rust_html
from mutation.report_trend import Trend
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

ORIGINS: tuple[str, ...] = ("mutmut", "catalogue", "generated", "cargo-mutants")

Numbered = list[tuple[int, MutantResult]]


def _stale(stale: typ.Sequence[str]) -> str:
    items = "".join(f"<li><code>{esc(name)}</code></li>" for name in stale)
    return (
        f'<div id="stale-banner" class="stale" role="alert">'
        f"<p>{esc(stale_banner_text(stale))}</p><ul>{items}</ul></div>"
    )


def pills(mutants: typ.Iterable[MutantResult]) -> str:
    """Return one pill per status present, with its count (LINE_PRIORITY order)."""
    counts = count_statuses(mutants)
    return "".join(
        f'<span class="pill status-{s}" title="{counts[s]} {STATUS_LABELS[s]}" '
        f'data-status="{s}">{counts[s]}</span>'
        for s in LINE_PRIORITY
        if counts.get(s)
    )


def _filters(results: Results, files: list[str]) -> str:
    counts = count_statuses(results.mutants)
    statuses = "".join(
        f'<label><input type="checkbox" class="status-filter" value="{s}" checked> '
        f'<span class="badge status-{s}">{STATUS_LABELS[s]}</span> '
        f'(<span class="status-count" data-status="{s}">{counts[s]}</span>)</label>'
        for s in STATUSES
    )
    present = {m.origin for m in results.mutants}
    origins = "".join(
        f'<label><input type="checkbox" class="origin-filter" value="{o}" checked> {o} '
        f"({sum(1 for m in results.mutants if m.origin == o)})</label>"
        for o in ORIGINS
        if o in present
    )
    modules = "".join(
        f'<label title="{esc(f)}"><input type="checkbox" class="module-filter" '
        f'value="{esc(f)}" checked> <code>{esc(pathlib.PurePosixPath(f).name)}</code></label>'
        for f in files
    )
    total = len(results.mutants)
    return (
        '<section id="filters">'
        f'<div class="row"><fieldset><legend>Status</legend>{statuses}</fieldset></div>'
        f'<div class="row"><fieldset><legend>Origin</legend>{origins}</fieldset>'
        f"<fieldset><legend>Module</legend>{modules}</fieldset></div>"
        '<div class="row"><button type="button" id="show-all">show all</button>&nbsp;'
        '<button type="button" id="show-problems">survivors only</button>&nbsp;'
        f'<span id="visible-count" data-visible="{total}">'
        f"Showing {total} of {total} mutants</span></div></section>"
    )


def _tree(files: list[str], by_file: dict[str, Numbered]) -> str:
    """Return the file tree: directories nested, each file with language and counts."""
    root: dict[str, typ.Any] = {}
    for index, file in enumerate(files):
        node = root
        *dirs, name = file.split("/")
        for part in dirs:
            node = node.setdefault(part + "/", {})
        node[name] = index

    def render(node: dict[str, typ.Any], prefix: str) -> str:
        items = []
        for name in sorted(node, key=lambda n: (not n.endswith("/"), n)):
            value = node[name]
            if isinstance(value, dict):
                items.append(
                    f'<li><span class="dir">{esc(name)}</span>{render(value, prefix + name)}</li>'
                )
                continue
            file = prefix + name
            mutants = [m for _, m in by_file.get(file, [])]
            items.append(
                f'<li class="file-entry" data-file="{esc(file)}">'
                f'<a href="#file-{value}">{esc(name)}</a> '
                f'<span class="lang">{esc(language_of(file, mutants))}</span> '
                f'<span class="pills">{pills(mutants)}</span></li>'
            )
        return "<ul>" + "".join(items) + "</ul>"

    return (
        f'<nav id="tree" aria-label="Mutated files"><strong>Files</strong>{render(root, "")}</nav>'
    )


def _worst(mutants: list[MutantResult]) -> str:
    present = {m.status for m in mutants}
    return next((s for s in LINE_PRIORITY if s in present), "")


def _file(
    index: int, file: str, source: str | None, mutants: Numbered, anchors: dict[int, str]
) -> str:
    language = language_of(file, (m for _, m in mutants))
    lines = [] if source is None else source.splitlines()
    code = highlight_lines(source, language) if source is not None else []
    by_line: dict[int, Numbered] = {}
    outside: Numbered = []
    for number, mutant in mutants:
        if 1 <= mutant.line_start <= len(lines):
            by_line.setdefault(mutant.line_start, []).append((number, mutant))
        else:
            outside.append((number, mutant))
    rows = []
    for n, text in enumerate(code, start=1):
        here = by_line.get(n, [])
        row_id = f"f{index}-L{n}"
        if not here:
            rows.append(
                f'<tr class="line" id="{row_id}" data-line="{n}"><td class="ln">{n}</td>'
                f'<td class="mk"></td><td class="src">{text}</td></tr>'
            )
            continue
        found = [m for _, m in here]
        opened = any(needs_review(m) for m in found)
        box = f"f{index}-M{n}"
        rows.append(
            f'<tr class="line has-mutants worst-{_worst(found)}" id="{row_id}" '
            f'data-line="{n}" data-mutants="{box}"><td class="ln">{n}</td>'
            f'<td class="mk"><button type="button" class="marker" aria-controls="{box}" '
            f'aria-expanded="{str(opened).lower()}" title="{len(found)} mutants on line {n}">'
            f'{pills(found)}</button></td><td class="src">{text}</td></tr>'
        )
        cards = "".join(mutant_html(m, anchors[i]) for i, m in here)
        hidden = "" if opened else " hidden"
        rows.append(
            f'<tr class="mutants" id="{box}" data-line="{n}" data-open="{str(opened).lower()}"'
            f'{hidden}><td colspan="3">{cards}</td></tr>'
        )
    tally = ", ".join(
        f"{count} {STATUS_LABELS[s]}"
        for s, count in count_statuses(m for _, m in mutants).items()
        if count
    )
    parts = [
        f'<section class="file" id="file-{index}" data-file="{esc(file)}" '
        f'data-language="{esc(language)}">',
        f'<h2><code>{esc(file)}</code> <span class="lang">{esc(language)}</span></h2>',
        f'<p class="note">{len(mutants)} mutants{": " + tally if tally else ""}</p>',
    ]
    if source is None:
        parts.append('<p class="note">Source file unavailable.</p>')
    if outside:
        cards = "".join(mutant_html(m, anchors[i]) for i, m in outside)
        parts.append(
            f'<div class="outside"><p class="note">Outside the current file:</p>{cards}</div>'
        )
    parts.append(
        f'<div class="code-box"><table class="source {HIGHLIGHT_CLASS}">{"".join(rows)}</table></div>'
        "</section>"
    )
    return "\n".join(parts)


def render_html(
    results: Results,
    root: pathlib.Path,
    *,
    stale: typ.Sequence[str] = (),
    trend: Trend | None = None,
    rust: Results | None = None,
    rust_note: str = "",
) -> str:
    """Render the run as one self-contained HTML page.

    Parameters
    ----------
    results
        A loaded result file.
    root
        The project root; mutated files' source is read from here.
    stale
        Inputs changed since the run; when non-empty a STALE banner opens
        the page.
    trend
        The comparison with the baseline, when known.
    rust
        The Rust phase's results: its files join the tree (highlighted as
        Rust), its mutants every view, its gates and scores a section.
    rust_note
        Said in that section when there are no Rust results.

    Returns
    -------
    str
        The page.
    """
    python = results
    results = combine(python, rust)
    anchors = {i: f"m{i}" for i in range(len(results.mutants))}
    files = target_files((m.file for m in results.modules), results.mutants)
    by_file: dict[str, Numbered] = {}
    for i, m in enumerate(results.mutants):
        by_file.setdefault(m.file, []).append((i, m))
    sections = [
        _file(index, file, read_source(root, file), by_file.get(file, []), anchors)
        for index, file in enumerate(files)
    ]
    overall = "PASSED" if results.passed else "FAILED"
    body = [
        _stale(stale) if stale else "",
        f"<h1>Mutation testing: {overall}</h1>",
        f'<p class="note">Run of {esc(results.created)}; {len(results.mutants)} mutants in '
        f"{len(files)} files.</p>",
        summary_html(python, trend),
        rust_html(rust, rust_note),
        review_index_html(results, anchors),
        _filters(results, files),
        f'<div id="review">{_tree(files, by_file)}<main id="files">{"".join(sections)}</main></div>',
        must_kill_html(results, anchors),
        tests_html(results),
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
