"""Where a mutant really is: its file, lines and columns, computed from its diff.

Language-neutral and pure: the only inputs are a unified diff and the text of
the unmutated file.  Two kinds of diff arrive:

* whole-file diffs (the catalogue's, cargo-mutants'), whose hunk headers
  count lines of the file;
* mutmut 3.8.1's diffs of one function, whose hunk headers count lines from
  the top of the function's text (leading comments included) and whose code
  lines of a method are dedented (while the continuation lines of its
  multi-line strings are not).

Either way the hunk is *anchored* in the unmutated file: the hunk's old side
(context and removed lines) must occur there, line for line, and the
occurrence nearest the line the header suggests wins.  A diff that does not
occur in the file raises :class:`LocationError` rather than guessing.

:func:`location_problems` checks a recorded location against the source
independently of how it was computed; the kit runs it over every mutant it
writes or reports (:func:`require_valid_locations`).
"""

from __future__ import annotations

import dataclasses
import re
import typing as typ
from collections.abc import Callable, Iterable

if typ.TYPE_CHECKING:
    from mutation.results import MutantResult

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OPERATOR_CHARS = frozenset("=!<>+-*/%&|^~@:.")


class LocationError(ValueError):
    """A diff cannot be placed in its file, or a recorded location is wrong."""


@dataclasses.dataclass(frozen=True)
class Location:
    """A mutated span of the unmutated file.

    Lines and columns are 1-based and inclusive; column 0 means unknown.
    ``replacement`` is the text that takes the place of the span.
    """

    file: str
    line_start: int
    line_end: int
    column_start: int
    column_end: int
    replacement: str = ""


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
            raise LocationError(msg)
        body.append((tag, raw[1:]))
    if start is not None:
        hunks.append(Hunk(start, tuple(body)))
    return hunks


def _lead(source_line: str, diff_line: str) -> str | None:
    """Return the indentation ``diff_line`` lacks to be ``source_line`` (``None``: no match)."""
    wanted, text = source_line.rstrip(), diff_line.rstrip()
    if not text.strip():
        return "" if not wanted.strip() else None
    if not wanted.endswith(text):
        return None
    lead = wanted[: len(wanted) - len(text)]
    return lead if not lead.strip() else None


def _occurs_at(source: list[str], at: int, old: list[str]) -> bool:
    """Whether ``old`` is ``source`` from line ``at``, up to one dedent.

    mutmut dedents a method's code lines but not the continuation lines of
    its multi-line strings, so each line may lack either nothing or the one
    indentation the other lines lack.
    """
    leads: set[str] = set()
    for offset, text in enumerate(old):
        lead = _lead(source[at + offset], text)
        if lead is None:
            return False
        if lead:
            leads.add(lead)
    return len(leads) <= 1


def _anchors(source: list[str], old: list[str]) -> list[int]:
    """Every 0-based line at which ``old`` occurs in ``source``."""
    return [at for at in range(len(source) - len(old) + 1) if _occurs_at(source, at, old)]


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


@dataclasses.dataclass(frozen=True)
class _Span:
    """A changed region of one anchored hunk (0-based source lines)."""

    first: int
    first_column: int
    last: int
    last_column: int
    replacement: str


def _position(lines: list[str], offset: int) -> tuple[int, int]:
    """Return ``offset`` into the newline-joined ``lines`` as (line index, 0-based column)."""
    for index, line in enumerate(lines):
        if offset <= len(line):
            return index, offset
        offset -= len(line) + 1
    return len(lines) - 1, len(lines[-1])


def _trim(old: str, new: str) -> tuple[int, int, str]:
    """Return the differing middle of ``old`` (start, end offsets) and its replacement."""
    prefix, suffix = differing_range(old, new)
    end = len(old) - suffix
    if end <= prefix:
        # Text was only inserted among the removed lines: widen by one character.
        if prefix > 0:
            prefix -= 1
        else:
            end = min(prefix + 1, len(old))
    return prefix, end, new[prefix : len(new) - (len(old) - end)]


def _change_block(hunk: Hunk) -> tuple[str, str] | None:
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
        block = _change_block(hunk)
        if block is None:
            continue
        old, new = block
        parts.append(_trim(old, new)[2] if old and any(t == "-" for t, _ in hunk.lines) else new)
    return "\n".join(parts)


def _changed_span(hunk: Hunk, source: list[str], at: int) -> _Span:
    """Return the changed region of ``hunk`` anchored at source line ``at``."""
    old_index = 0
    rows: list[tuple[str, str, int]] = []  # (tag, diff text, source index or -1)
    for tag, text in hunk.lines:
        rows.append((tag, text, at + old_index if tag != "+" else -1))
        if tag != "+":
            old_index += 1
    changed = [i for i, (tag, _, _) in enumerate(rows) if tag != " "]
    if not changed:
        msg = "the diff changes nothing"
        raise LocationError(msg)
    block = rows[changed[0] : changed[-1] + 1]
    old = [(text, where) for tag, text, where in block if tag != "+"]
    new = "\n".join(text for tag, text, _ in block if tag != "-")
    if not any(tag == "-" for tag, _, _ in block):
        # A pure insertion: place it on the line it follows (or precedes).
        before = [where for _, _, where in rows[: changed[0]] if where >= 0]
        after = [where for _, _, where in rows[changed[-1] :] if where >= 0]
        line = before[-1] if before else after[0] if after else at
        width = max(len(source[line]) if line < len(source) else 0, 1)
        return _Span(line, 1, line, width, new)
    old_text = "\n".join(text for text, _ in old)
    prefix, end, replacement = _trim(old_text, new)
    old_lines = [text for text, _ in old]
    first, first_column = _position(old_lines, prefix)
    last, last_column = _position(old_lines, max(end - 1, prefix))
    return _Span(
        old[first][1],
        first_column + 1 + _shift(source, old[first]),
        old[last][1],
        last_column + 1 + _shift(source, old[last]),
        replacement,
    )


def _shift(source: list[str], row: tuple[str, int]) -> int:
    """Return the columns the diff's text of a line lost to dedenting."""
    text, where = row
    return max(len(source[where].rstrip()) - len(text.rstrip()), 0)


def locate_in_diff(
    diff: str,
    source: str,
    *,
    file: str,
    hunk_origin: int = 1,
    within: tuple[int, int] | None = None,
) -> Location:
    """Compute where ``diff`` changes the unmutated ``source``.

    Parameters
    ----------
    diff
        The mutant's unified diff.
    source
        The unmutated file's text.
    file
        The file's path as reported (copied into the result).
    hunk_origin
        The file line that the diff's line 1 stands for: 1 for whole-file
        diffs, the function's first line for mutmut's per-function diffs.
        Only a hint: the hunk is anchored by its text, nearest this line.
    within
        Optional 1-based inclusive line span (the mutated function) that
        the changed lines must lie in.

    Returns
    -------
    Location
        Lines and columns of the changed text, and its replacement.

    Raises
    ------
    LocationError
        If the diff has no hunk or a hunk's text does not occur in ``source``
        (inside ``within`` when given).
    """
    hunks = parse_hunks(diff)
    if not hunks:
        msg = f"{file}: the mutant's diff has no hunk to locate"
        raise LocationError(msg)
    lines = source.splitlines()
    spans: list[_Span] = []
    floor = 0
    for hunk in hunks:
        expected = hunk_origin + max(hunk.old_start, 1) - 2
        candidates: list[tuple[int, _Span]] = []
        for at in _anchors(lines, hunk.old_side):
            if at < floor:
                continue
            span = _changed_span(hunk, lines, at)
            if within and not (within[0] <= span.first + 1 and span.last + 1 <= within[1]):
                continue
            candidates.append((at, span))
        if not candidates:
            removed = next((t for tag, t in hunk.lines if tag == "-"), "")
            where = f" within lines {within[0]}-{within[1]}" if within else ""
            msg = (
                f"{file}: the mutant's diff (first removed line {removed.strip()!r}) does "
                f"not occur in the unmutated file{where}; the diff and the file disagree"
            )
            raise LocationError(msg)
        at, span = min(candidates, key=lambda c: (abs(c[0] - expected), c[0]))
        spans.append(span)
        floor = at + len(hunk.old_side)
    first, last = spans[0], spans[-1]
    replacement = first.replacement if len(spans) == 1 else "\n".join(s.replacement for s in spans)
    return Location(
        file=file,
        line_start=first.first + 1,
        line_end=last.last + 1,
        column_start=first.first_column,
        column_end=last.last_column,
        replacement=replacement,
    )


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


def location_problems(mutant: MutantResult, source: str | None) -> list[str]:
    """Check a mutant's recorded location against the unmutated file.

    Independent of :func:`locate_in_diff`: the reported lines must exist,
    and, when the diff removes lines, the source lines ``line_start`` to
    ``line_end`` must be (up to indentation) consecutive lines the diff
    removes, the first of them at ``line_start``; columns must lie on their
    lines.

    Parameters
    ----------
    mutant
        A mutant of a result file.
    source
        Its file's unmutated text, or ``None`` when unreadable.

    Returns
    -------
    list[str]
        One message per problem; empty when the location is right.
    """
    where = f"mutant {mutant.id} ({mutant.file}:{mutant.line_start})"
    if source is None:
        return [f"{where}: the file cannot be read"]
    lines = source.splitlines()
    if not 1 <= mutant.line_start <= mutant.line_end <= len(lines):
        return [
            f"{where}: lines {mutant.line_start}-{mutant.line_end} are outside the file "
            f"({len(lines)} lines)"
        ]
    problems: list[str] = []
    removed = [text.strip() for text in removed_lines(mutant.diff)] if mutant.diff else []
    reported = [line.strip() for line in lines[mutant.line_start - 1 : mutant.line_end]]
    if removed and not any(removed[i : i + len(reported)] == reported for i in range(len(removed))):
        problems.append(
            f"{where}: line {mutant.line_start} holds {reported[0]!r}, which the diff "
            f"does not remove (it removes {removed[0]!r} first)"
        )
    if (mutant.column_start == 0) != (mutant.column_end == 0):
        problems.append(f"{where}: only one of column_start and column_end is known")
    elif mutant.column_start:
        first_width = len(lines[mutant.line_start - 1])
        last_width = len(lines[mutant.line_end - 1])
        if not 1 <= mutant.column_start <= max(first_width, 1):
            problems.append(
                f"{where}: column_start {mutant.column_start} is off its line "
                f"({first_width} characters)"
            )
        if not 1 <= mutant.column_end <= max(last_width, 1):
            problems.append(
                f"{where}: column_end {mutant.column_end} is off line {mutant.line_end} "
                f"({last_width} characters)"
            )
        if mutant.line_start == mutant.line_end and mutant.column_end < mutant.column_start:
            problems.append(f"{where}: column_end precedes column_start")
    return problems


def require_valid_locations(
    mutants: Iterable[MutantResult], read: Callable[[str], str | None]
) -> None:
    """Refuse mutants whose recorded location is wrong.

    Parameters
    ----------
    mutants
        The mutants about to be written or reported.
    read
        Returns the unmutated text of a reported file (``None``: unreadable).

    Raises
    ------
    LocationError
        Listing every wrong location (the first 20 in full).
    """
    cache: dict[str, str | None] = {}
    problems: list[str] = []
    for mutant in mutants:
        if mutant.file not in cache:
            cache[mutant.file] = read(mutant.file)
        problems.extend(location_problems(mutant, cache[mutant.file]))
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        msg = f"{len(problems)} mutant locations are wrong:\n  {shown}{more}"
        raise LocationError(msg)
