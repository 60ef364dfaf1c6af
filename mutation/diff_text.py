"""Unified diffs as text: hunks, removed lines and the differing middle of a change.

Pure helpers shared by :mod:`mutation.locations` (which places a diff in its
file), the reports and the trend.  Nothing here reads a file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OPERATOR_CHARS = frozenset("=!<>+-*/%&|^~@:.")


class DiffError(ValueError):
    """A diff line is neither context, removal nor addition."""


@dataclasses.dataclass(frozen=True)
class Hunk:
    """One ``@@`` hunk: its old-side start and its tagged lines.

    ``lines`` holds ``(tag, text)`` pairs, the tag being ``" "`` (context),
    ``"-"`` (removed) or ``"+"`` (added).
    """

    old_start: int
    lines: tuple[tuple[str, str], ...]

    @property
    def old_side(self) -> list[str]:
        """The context and removed lines, in order."""
        return [text for tag, text in self.lines if tag != "+"]


def parse_hunks(diff: str) -> list[Hunk]:
    """Split a unified diff into its hunks.

    Parameters
    ----------
    diff
        Unified diff text (``---``/``+++`` headers optional).

    Returns
    -------
    list[Hunk]
        The hunks in order; empty when the diff has none.

    Raises
    ------
    LocationError
        If a line inside a hunk is neither context, removal nor addition.
    """
    hunks: list[Hunk] = []
    start: int | None = None
    body: list[tuple[str, str]] = []
    for raw in diff.splitlines():
        header = _HUNK_HEADER.match(raw)
        if header:
            if start is not None:
                hunks.append(Hunk(start, tuple(body)))
            start, body = int(header.group(1)), []
            continue
        if start is None or raw.startswith("\\"):
            # File headers before the first hunk; "\ No newline at end of file".
            continue
        if raw.startswith(("---", "+++")) and not body:
            continue
        tag = raw[:1] or " "
        if tag not in {" ", "-", "+"}:
            msg = f"diff line {raw!r} is not context, removal or addition"
            raise DiffError(msg)
        body.append((tag, raw[1:]))
    if start is not None:
        hunks.append(Hunk(start, tuple(body)))
    return hunks


def _kind(char: str) -> str:
    if char.isalnum() or char == "_":
        return "word"
    if char.isspace():
        return "space"
    return "operator" if char in _OPERATOR_CHARS else char


def _joins(edge: str, neighbours: Iterable[str]) -> bool:
    kind = _kind(edge)
    return kind != "space" and kind in {_kind(c) for c in neighbours if c}


def differing_range(original: str, replacement: str) -> tuple[int, int]:
    """Return how many leading and trailing characters the texts share.

    The shared ends are shrunk so the differing middle starts and ends on
    token boundaries (``==`` -> ``!=`` rather than ``=`` -> ``!``).

    Parameters
    ----------
    original, replacement
        The text before and after the mutation.

    Returns
    -------
    tuple[int, int]
        ``(prefix, suffix)`` lengths common to both texts.
    """
    limit = min(len(original), len(replacement))
    prefix = 0
    while prefix < limit and original[prefix] == replacement[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and original[-1 - suffix] == replacement[-1 - suffix]:
        suffix += 1
    while prefix > 0:
        firsts = (
            original[prefix : len(original) - suffix][:1],
            replacement[prefix : len(replacement) - suffix][:1],
        )
        if not _joins(original[prefix - 1], firsts):
            break
        prefix -= 1
    while suffix > 0:
        cut = len(original) - suffix
        lasts = (
            original[prefix:cut][-1:],
            replacement[prefix : len(replacement) - suffix][-1:],
        )
        if not _joins(original[cut], lasts):
            break
        suffix -= 1
    return prefix, suffix


def _token_start(text: str, offset: int) -> int:
    """Return where the token before ``offset`` starts (spaces before it skipped)."""
    start = offset
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    if start == 0 or text[start - 1] == "\n":
        return offset - 1
    kind = _kind(text[start - 1])
    while start > 0 and text[start - 1] != "\n" and _kind(text[start - 1]) == kind:
        start -= 1
    return start


def trim(old: str, new: str) -> tuple[int, int, str]:
    """Return the differing middle of ``old`` (start, end offsets) and its replacement."""
    prefix, suffix = differing_range(old, new)
    end = len(old) - suffix
    if end <= prefix:
        # Text was only inserted: widen the span over the token before the
        # insertion (``is`` -> ``is not``), or the character after it.
        if prefix > 0:
            prefix = _token_start(old, prefix)
        else:
            end = min(prefix + 1, len(old))
    return prefix, end, new[prefix : len(new) - (len(old) - end)]


def change_block(hunk: Hunk) -> tuple[str, str] | None:
    """Return a hunk's old and new text from its first change to its last."""
    changed = [i for i, (tag, _) in enumerate(hunk.lines) if tag != " "]
    if not changed:
        return None
    block = hunk.lines[changed[0] : changed[-1] + 1]
    return (
        "\n".join(text for tag, text in block if tag != "+"),
        "\n".join(text for tag, text in block if tag != "-"),
    )


def replacement_of(diff: str) -> str:
    """Return the text that replaces the span :func:`locate_in_diff` finds.

    Parameters
    ----------
    diff
        A mutant's unified diff.

    Returns
    -------
    str
        The differing middle of the added text (hunks joined by newlines).
    """
    parts: list[str] = []
    for hunk in parse_hunks(diff):
        block = change_block(hunk)
        if block is None:
            continue
        old, new = block
        parts.append(trim(old, new)[2] if old and any(t == "-" for t, _ in hunk.lines) else new)
    return "\n".join(parts)


def removed_lines(diff: str) -> list[str]:
    """Return the lines a diff removes, in order, without their ``-`` tag.

    Parameters
    ----------
    diff
        Unified diff text.

    Returns
    -------
    list[str]
        Removed lines (possibly dedented, as the diff has them).
    """
    return [text for hunk in parse_hunks(diff) for tag, text in hunk.lines if tag == "-"]
