"""Syntax highlighting of mutated files for the HTML report, with Pygments.

The report shows one table row per source line (line number, marker,
code), so a token that spans lines (a docstring, a raw string) must be cut
at each line end and its class reopened on the next line.  Pygments'
formatters wrap whole blocks, so the lexer's tokens are laid out per line
here, every text escaped, classes being Pygments' short names (``k``,
``s2``...) styled by :func:`highlight_css`.
"""

from __future__ import annotations

import html

from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, RustLexer, TextLexer
from pygments.token import STANDARD_TYPES, _TokenType

HIGHLIGHT_CLASS = "hl"
"""The CSS scope of highlighted code."""

STYLE = "default"
"""Pygments' light style: readable on the report's white background."""


def lexer_for(language: str) -> Lexer:
    """Return the Pygments lexer of a mutant language (plain text when unknown).

    Parameters
    ----------
    language
        ``"python"`` or ``"rust"`` (a :data:`mutation.results.Language`).

    Returns
    -------
    Lexer
        A lexer that keeps the text as is (no tab expansion, no stripping).
    """
    kinds: dict[str, type[Lexer]] = {"python": PythonLexer, "rust": RustLexer}
    lexer: Lexer = kinds.get(language, TextLexer)(stripnl=False, stripall=False, ensurenl=False)
    return lexer


def _css_class(kind: _TokenType) -> str:
    while kind not in STANDARD_TYPES and kind.parent is not None:
        kind = kind.parent
    return STANDARD_TYPES.get(kind, "")


def highlight_lines(source: str, language: str) -> list[str]:
    """Highlight ``source`` and return one HTML fragment per line.

    Parameters
    ----------
    source
        A file's text.
    language
        Its language (see :func:`lexer_for`).

    Returns
    -------
    list[str]
        As many fragments as ``source.splitlines()`` has lines; each is
        escaped text in ``<span class="...">`` elements that open and close
        on that line.
    """
    count = len(source.splitlines())
    lines: list[list[str]] = [[]]
    for kind, value in lexer_for(language).get_tokens(source):
        css = _css_class(kind)
        for index, piece in enumerate(value.split("\n")):
            if index:
                lines.append([])
            if piece:
                text = html.escape(piece.rstrip("\r"))
                lines[-1].append(f'<span class="{css}">{text}</span>' if css else text)
    rendered = ["".join(parts) for parts in lines]
    rendered.extend([""] * (count - len(rendered)))
    return rendered[:count]


def highlight_css() -> str:
    """Return the style rules of the highlighted code (scoped to ``.hl``).

    Returns
    -------
    str
        CSS text from Pygments' :data:`STYLE`, without its ``pre`` and line
        number rules (the report lays out lines itself).
    """
    formatter: HtmlFormatter[str] = HtmlFormatter(style=STYLE)
    rules: str = formatter.get_style_defs(f".{HIGHLIGHT_CLASS}")  # type: ignore[no-untyped-call]
    return "\n".join(
        rule
        for rule in rules.splitlines()
        if rule.startswith(f".{HIGHLIGHT_CLASS} .") and "background" not in rule.split("{")[0]
    )
