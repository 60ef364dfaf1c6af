"""Markdown building blocks: safe table cells, a size budget, one survivor's block.

The pull-request summary must stay under GitHub's comment limit whatever
the number of mutants, so every block that grows with the run is added
through a :class:`Budget` and whatever does not fit is counted instead.
"""

from __future__ import annotations

import pathlib
import re

from mutation.evidence import fence, shorten
from mutation.report_common import (
    STATUS_LABELS,
    is_must_kill,
    read_source,
    replay_for,
    source_excerpt,
)
from mutation.results import MutantResult

TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
ENTITY = re.compile(r"&(?=#?\w+;)")

PR_LIMIT = 60_000
"""The most characters of a pull-request summary (GitHub accepts 65,536)."""

RESERVE = 2_000
"""Characters kept back for the "and N more" lines of every section and the footer."""

DIFF_LINES = 40
"""Lines of a diff shown in a budgeted survivor block."""

COVERING_SHOWN = 5
"""Covering tests named in a budgeted survivor block."""


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


class Budget:
    """Characters left for the summary; ``None`` means unlimited (``--full``)."""

    def __init__(self, limit: int | None) -> None:
        self.left = None if limit is None else limit - RESERVE

    @property
    def limited(self) -> bool:
        """Whether blocks may be left out."""
        return self.left is not None

    def share(self, fraction: float) -> Budget:
        """Return a separate budget of ``fraction`` of what is left (a cap, not a reservation)."""
        cap = Budget(None)
        if self.left is not None:
            cap.left = int(self.left * fraction)
        return cap

    def spend(self, text: str) -> None:
        """Count ``text`` that is always included."""
        if self.left is not None:
            self.left -= len(text) + 1

    def take(self, text: str) -> bool:
        """Count ``text`` and return True if it fits."""
        if self.left is None:
            return True
        if len(text) + 1 > self.left:
            return False
        self.left -= len(text) + 1
        return True


def where(mutant: MutantResult) -> str:
    """Return ``file:line`` (``file:line-end`` for a span)."""
    if mutant.line_end > mutant.line_start:
        return f"{mutant.file}:{mutant.line_start}-{mutant.line_end}"
    return f"{mutant.file}:{mutant.line_start}"


def _clip(text: str, lines: int | None) -> str:
    if lines is None:
        return text
    kept = text.splitlines()
    if len(kept) <= lines:
        return text
    return "\n".join([*kept[:lines], f"... ({len(kept) - lines} more lines)"])


def survivor_block(mutant: MutantResult, root: pathlib.Path, *, compact: bool) -> str:
    """Return one survivor's block: diff, source, covering tests, replay.

    Parameters
    ----------
    mutant
        A mutant a reviewer must look at.
    root
        The project root (its source is read from here).
    compact
        Cut long diffs and test lists (the pull-request summary).

    Returns
    -------
    str
        Markdown for the block.
    """
    status = STATUS_LABELS.get(mutant.status, mutant.status)
    kind = "must-kill " if is_must_kill(mutant) else ""
    lines = [
        f"#### {code(mutant.id)}: {kind}{status} at {code(where(mutant))}"
        + (f" in {code(mutant.function)}" if mutant.function else ""),
        "",
    ]
    if is_must_kill(mutant) and mutant.claim:
        lines.extend([f"Claim: {cell(mutant.claim)}", ""])
    if mutant.detail:
        lines.extend([f"Detail: {cell(shorten(mutant.detail, 3))}", ""])
    diff_lines = DIFF_LINES if compact else None
    lines.append(fence(_clip(mutant.diff or "(no diff recorded)", diff_lines), "diff"))
    excerpt = source_excerpt(
        read_source(root, mutant.file),
        mutant.line_start,
        mutant.line_end,
        limit=10 if compact else 40,
    )
    language = mutant.language
    if excerpt:
        width = len(str(excerpt[-1][0]))
        numbered = "\n".join(f"{n:>{width}} | {text}" for n, text in excerpt)
        lines.extend(["Source:", "", fence(numbered, language)])
    elif mutant.original:
        lines.extend(["Original (source file unreadable):", "", fence(mutant.original, language)])
    if mutant.tests:
        shown = mutant.tests[:COVERING_SHOWN] if compact else mutant.tests
        more = len(mutant.tests) - len(shown)
        lines.append(
            "Covering tests (fastest first): "
            + ", ".join(code(t) for t in shown)
            + (f" (+{more} more)" if more else "")
        )
        lines.append("")
    else:
        lines.extend(["Covering tests: none recorded.", ""])
    replay = replay_for(mutant)
    if replay:
        lines.extend(["Replay:", "", fence(replay, "sh")])
    return "\n".join(lines)
