"""Evidence for each must-kill mutant: its diff, its killers and how to replay it.

A reviewer checking a catalogue claim wants three things side by side: what
the mutant changes, which tests failed on it and with what message, and the
command that reproduces the run.  :func:`collect_evidence` gathers them;
:func:`evidence_markdown` and :func:`evidence_html` lay them out for the
Markdown summary and the HTML page.
"""

from __future__ import annotations

import dataclasses
import html
import typing as typ

from mutation.report_common import STATUS_LABELS, is_must_kill
from mutation.results import Killer, MutantResult, Results

MESSAGE_LINES = 25
"""Lines of a failure message shown before it is cut."""


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What a reviewer needs to trust one must-kill verdict."""

    id: str
    claim: str
    status: str
    file: str
    line_start: int
    line_end: int
    diff: str
    killers: tuple[Killer, ...]
    replay: str
    detail: str


def evidence_for(mutant: MutantResult) -> Evidence:
    """Build the evidence block of one mutant.

    Parameters
    ----------
    mutant
        A must-kill mutant.

    Returns
    -------
    Evidence
        Its diff, killers (with messages) and replay command.
    """
    return Evidence(
        id=mutant.id,
        claim=mutant.claim,
        status=mutant.status,
        file=mutant.file,
        line_start=mutant.line_start,
        line_end=mutant.line_end,
        diff=mutant.diff,
        killers=tuple(mutant.killers),
        replay=mutant.replay,
        detail=mutant.detail,
    )


def collect_evidence(results: Results) -> list[Evidence]:
    """Return the evidence of every must-kill mutant, in result-file order.

    Parameters
    ----------
    results
        A loaded result file.

    Returns
    -------
    list[Evidence]
        One block per catalogue (must-kill) mutant.
    """
    return [evidence_for(m) for m in results.mutants if is_must_kill(m)]


def shorten(message: str, lines: int = MESSAGE_LINES) -> str:
    """Cut a failure message to its first ``lines`` lines.

    Parameters
    ----------
    message
        A test's failure message.
    lines
        The most lines to keep.

    Returns
    -------
    str
        The message, with a note of how many lines were cut.
    """
    kept = message.rstrip().splitlines()
    if len(kept) <= lines:
        return "\n".join(kept)
    cut = len(kept) - lines
    return "\n".join([*kept[:lines], f"... ({cut} more lines)"])


def fence(text: str, language: str = "") -> str:
    """Wrap ``text`` in a Markdown code fence longer than any backtick run in it.

    Parameters
    ----------
    text
        The block's content.
    language
        The info string (``diff``, ``python``, ``text``...).

    Returns
    -------
    str
        The fenced block, ending with a newline.
    """
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{ticks}{language}\n{body}{ticks}\n"


def _location(item: Evidence) -> str:
    if item.line_end > item.line_start:
        return f"{item.file}:{item.line_start}-{item.line_end}"
    return f"{item.file}:{item.line_start}"


COMPACT_KILLERS = 3
"""Killers shown, with their messages, in a compact (pull-request) block."""

COMPACT_MESSAGE_LINES = 6
"""Lines of each killer's message in a compact block."""


def evidence_markdown(item: Evidence, *, compact: bool = False) -> str:
    """Render one evidence block as Markdown (a collapsible ``<details>``).

    Parameters
    ----------
    item
        The evidence of one must-kill mutant.
    compact
        Name at most :data:`COMPACT_KILLERS` killers, with shorter messages
        (the pull-request summary); the rest are counted.

    Returns
    -------
    str
        Markdown for a PR comment or job summary.
    """
    status = STATUS_LABELS.get(item.status, item.status)
    parts = [
        "<details>",
        f"<summary><code>{html.escape(item.id)}</code> ({status}): "
        f"{html.escape(item.claim)}</summary>",
        "",
        f"Location: `{_location(item)}`",
        "",
        fence(item.diff or "(no diff recorded)", "diff"),
    ]
    if item.killers:
        parts.append("Killed by:")
        parts.append("")
        shown = item.killers[:COMPACT_KILLERS] if compact else item.killers
        lines = COMPACT_MESSAGE_LINES if compact else MESSAGE_LINES
        for killer in shown:
            parts.append(f"- `{killer.test}`")
            parts.append("")
            parts.append(fence(shorten(killer.message, lines) or "(no message)", "text"))
        if len(shown) < len(item.killers):
            parts.append(f"- ...and {len(item.killers) - len(shown)} more (see the HTML report)")
            parts.append("")
    else:
        parts.append("**No test killed this mutant.**")
        parts.append("")
    if item.detail:
        parts.append("Detail:")
        parts.append("")
        parts.append(fence(shorten(item.detail), "text"))
    if item.replay:
        parts.append("Replay:")
        parts.append("")
        parts.append(fence(item.replay, "sh"))
    parts.append("</details>")
    parts.append("")
    return "\n".join(parts)


def evidence_html(item: Evidence) -> str:
    """Render one evidence block as an HTML fragment (all text escaped).

    Parameters
    ----------
    item
        The evidence of one must-kill mutant.

    Returns
    -------
    str
        A ``<details class="evidence">`` element.
    """
    esc = html.escape
    status = STATUS_LABELS.get(item.status, item.status)
    parts = [
        f'<details class="evidence status-{esc(item.status)}" data-id="{esc(item.id)}">',
        f"<summary><code>{esc(item.id)}</code> "
        f'<span class="badge status-{esc(item.status)}">{esc(status)}</span> '
        f"{esc(item.claim)}</summary>",
        f'<p class="where">{esc(_location(item))}</p>',
        f'<pre class="diff">{diff_html(item.diff or "(no diff recorded)")}</pre>',
    ]
    if item.killers:
        parts.append('<ul class="killers">')
        parts.extend(
            f"<li><code>{esc(k.test)}</code>"
            f"<pre>{esc(shorten(k.message) or '(no message)')}</pre></li>"
            for k in item.killers
        )
        parts.append("</ul>")
    else:
        parts.append('<p class="no-killer">No test killed this mutant.</p>')
    if item.detail:
        parts.append(f'<pre class="detail">{esc(shorten(item.detail))}</pre>')
    if item.replay:
        parts.append(f'<p>Replay: <code class="replay">{esc(item.replay)}</code></p>')
    parts.append("</details>")
    return "\n".join(parts)


def diff_html(diff: str) -> str:
    """Return ``diff`` as escaped HTML with added/removed lines marked.

    Parameters
    ----------
    diff
        A unified diff.

    Returns
    -------
    str
        Text for a ``<pre>``; ``+``/``-`` lines wrapped in ``span.add``/``.del``.
    """
    rendered: list[str] = []
    for line in diff.splitlines():
        kind = _diff_kind(line)
        text = html.escape(line)
        rendered.append(f'<span class="{kind}">{text}</span>' if kind else text)
    return "\n".join(rendered)


def _diff_kind(line: str) -> str:
    kinds: typ.Final = (("+++", ""), ("---", ""), ("@@", "hunk"), ("+", "add"))
    for prefix, kind in kinds:
        if line.startswith(prefix):
            return kind
    return "del" if line.startswith("-") else ""
