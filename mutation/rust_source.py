"""Rust source reading for the kit: where each function starts and ends.

A small scanner, not a parser: it skips comments, string, byte-string,
raw-string and character literals, tracks braces, and records every
``fn`` with a body together with the ``mod``/``impl``/``trait`` blocks
around it. That is all the kit needs to check that a catalogue mutant lies
inside its named function and to fingerprint a function's text for the
incremental Rust phase.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHAR = re.compile(r"b?'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.)|[^\\'\n])'")
_RAW = re.compile(r'b?r(#*)"')
_IMPL_FOR = re.compile(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)")
_IMPL_TYPE = re.compile(r"impl\s*(?:<[^{]*?>)?\s*([A-Za-z_][A-Za-z0-9_:]*)")


@dataclasses.dataclass(frozen=True)
class RustFunction:
    """One function with a body: its qualified name and 1-based line span."""

    name: str
    line_start: int
    line_end: int
    start: int
    end: int


def _skip_literal(text: str, i: int) -> int:
    """Return the index after a comment or literal starting at ``i`` (or ``i``)."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        depth, j = 0, i
        while j < len(text):
            if text.startswith("/*", j):
                depth, j = depth + 1, j + 2
            elif text.startswith("*/", j):
                depth, j = depth - 1, j + 2
                if depth == 0:
                    return j
            else:
                j += 1
        return len(text)
    raw = _RAW.match(text, i)
    if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
        closing = '"' + raw.group(1)
        end = text.find(closing, raw.end())
        return len(text) if end < 0 else end + len(closing)
    if text[i] == '"' or text.startswith('b"', i):
        j = i + (2 if text[i] == "b" else 1)
        while j < len(text):
            if text[j] == "\\":
                j += 2
            elif text[j] == '"':
                return j + 1
            else:
                j += 1
        return len(text)
    if text[i] in "'b":
        char = _CHAR.match(text, i)
        if char:
            return char.end()
    return i


_ATTRIBUTES = re.compile(r"//[^\n]*|#!?\[[^\]]*\]")
_MOD_OR_TRAIT = re.compile(
    r"^(?:pub(?:\([^)]*\))?\s+)?(?:mod|(?:unsafe\s+)?trait)\s+([A-Za-z_][A-Za-z0-9_]*)"
)


def _block_name(header: str) -> str | None:
    """Name a ``mod``/``impl``/``trait`` block from the text before its brace."""
    header = _ATTRIBUTES.sub(" ", header).strip()
    named = _MOD_OR_TRAIT.match(header)
    if named:
        return named.group(1)
    if re.match(r"^(unsafe\s+)?impl\b", header):
        found = _IMPL_FOR.search(header) or _IMPL_TYPE.search(header)
        return found.group(1).split("::")[-1] if found else None
    return None


def functions(text: str) -> list[RustFunction]:
    """Every function with a body in ``text``, qualified by its enclosing blocks.

    A method ``new`` in ``impl Io`` is ``Io::new``; ``via_pipe`` in ``mod
    splice`` is ``splice::via_pipe``; a function nested in another function
    is named after the outer one (``outer::inner``).
    """
    found: list[RustFunction] = []
    # Each open brace: (name it contributes, or None; index of a pending fn).
    stack: list[tuple[str | None, int | None]] = []
    pending_fn: str | None = None
    segment_start = 0
    i = 0
    while i < len(text):
        after = _skip_literal(text, i)
        if after != i:
            i = after
            continue
        char = text[i]
        if char == "{":
            header = text[segment_start:i]
            if pending_fn is not None:
                prefix = "::".join(name for name, _ in stack if name)
                qualified = f"{prefix}::{pending_fn}" if prefix else pending_fn
                found.append(RustFunction(qualified, 0, 0, i, -1))
                stack.append((pending_fn, len(found) - 1))
                pending_fn = None
            else:
                stack.append((_block_name(header.split(";")[-1].split("}")[-1]), None))
            segment_start = i + 1
        elif char == "}":
            if stack:
                _, index = stack.pop()
                if index is not None:
                    fn = found[index]
                    found[index] = dataclasses.replace(fn, end=i + 1)
            segment_start = i + 1
        elif char == ";":
            pending_fn = None  # a declaration without a body
            segment_start = i + 1
        elif char.isalpha() or char == "_":
            word = _WORD.match(text, i)
            assert word is not None
            if word.group() == "fn":
                name = _WORD.search(text, word.end())
                if name is not None:
                    pending_fn = name.group()
                    i = name.end()
                    continue
            i = word.end()
            continue
        i += 1
    result = []
    for fn in found:
        if fn.end < 0:
            continue
        start = _item_start(text, fn.start)
        result.append(
            dataclasses.replace(
                fn,
                start=start,
                line_start=text.count("\n", 0, start) + 1,
                line_end=text.count("\n", 0, fn.end) + 1,
            )
        )
    return result


def _item_start(text: str, brace: int) -> int:
    """Return the start of the line holding the ``fn`` keyword before ``brace``."""
    fn_at = text.rfind("fn ", 0, brace)
    return text.rfind("\n", 0, fn_at) + 1


def find_function(text: str, name: str) -> RustFunction | None:
    """Return the function called ``name`` (qualified or, if unique, bare), or None."""
    matches = [fn for fn in functions(text) if fn.name == name]
    if not matches:
        matches = [fn for fn in functions(text) if fn.name.rsplit("::", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


def function_at(text: str, line: int) -> RustFunction | None:
    """Return the innermost function whose span holds 1-based ``line``."""
    holding = [fn for fn in functions(text) if fn.line_start <= line <= fn.line_end]
    return min(holding, key=lambda fn: fn.line_end - fn.line_start) if holding else None


def function_digest(text: str, fn: RustFunction) -> str:
    """Return a hash of a function's own text (blank lines and spacing kept)."""
    return hashlib.sha256(text[fn.start : fn.end].encode()).hexdigest()
