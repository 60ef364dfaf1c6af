"""Review mode: which functions of the target files changed since a git ref.

``git diff --unified=0 <base> -- <file>`` gives the changed line ranges in
the *current* file; :mod:`ast` gives each top-level function's and method's
span (decorators included).  A function is changed when a changed line falls
in its span, when lines were deleted from inside it, or when it is new.
Functions that no longer exist are not reported.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import re
import subprocess

HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclasses.dataclass(frozen=True)
class Span:
    """A function's lines in the current file (1-based, inclusive)."""

    name: str
    start: int
    end: int
    body_indent: int

    def covers(self, line: int) -> bool:
        """Return whether ``line`` lies within the span.

        Parameters
        ----------
        line
            A 1-based line number.

        Returns
        -------
        bool
            True when ``start <= line <= end``.
        """
        return self.start <= line <= self.end


@dataclasses.dataclass(frozen=True)
class Hunk:
    """One ``git diff --unified=0`` hunk, in the current file's numbering.

    ``count`` lines from ``start`` were added or changed; when ``count`` is 0
    the hunk only deletes, after line ``start``.  ``deleted`` holds the
    removed lines' text.
    """

    start: int
    count: int
    deleted: tuple[str, ...]


def _git(repo: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def check_ref(repo: pathlib.Path, base: str) -> None:
    """Raise unless ``base`` names a commit in ``repo``.

    Parameters
    ----------
    repo
        A git work tree.
    base
        A git ref (branch, tag, sha, ``HEAD~2``...).

    Raises
    ------
    ValueError
        ``unknown git ref 'X'`` when git cannot resolve it.
    """
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if base.startswith("-") or found.returncode != 0:
        msg = f"unknown git ref '{base}'"
        raise ValueError(msg)


def parse_hunks(diff: str) -> list[Hunk]:
    """Parse the hunks of a zero-context unified diff.

    Parameters
    ----------
    diff
        The output of ``git diff --unified=0`` for one file.

    Returns
    -------
    list[Hunk]
        Each hunk's position in the new file and the lines it deleted.
    """
    hunks: list[Hunk] = []
    start = count = -1
    deleted: list[str] = []
    for line in diff.splitlines():
        match = HUNK.match(line)
        if match:
            if start >= 0:
                hunks.append(Hunk(start, count, tuple(deleted)))
            start = int(match["start"])
            count = 1 if match["count"] is None else int(match["count"])
            deleted = []
        elif start >= 0 and line.startswith("-"):
            deleted.append(line[1:])
    if start >= 0:
        hunks.append(Hunk(start, count, tuple(deleted)))
    return hunks


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def function_spans(source: str) -> list[Span]:
    """Return the spans of top-level functions and (nested) class methods.

    Parameters
    ----------
    source
        A Python module's text.

    Returns
    -------
    list[Span]
        ``name`` or ``Class.method`` (``Outer.Inner.method`` for nested
        classes); each span starts at the first decorator.  Functions nested
        in functions belong to their enclosing function.
    """
    lines = source.splitlines()
    spans: list[Span] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, FunctionNode):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                first = node.body[0].lineno
                indent = _indent(lines[first - 1]) if first <= len(lines) else 0
                spans.append(Span(prefix + node.name, start, end, indent))
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(source).body, "")
    return spans


def touched(spans: list[Span], hunks: list[Hunk]) -> set[str]:
    """Return the names of the spans the hunks change.

    Parameters
    ----------
    spans
        Function spans of the current file.
    hunks
        Its zero-context diff hunks.

    Returns
    -------
    set[str]
        Functions with an added or changed line, or with lines deleted from
        them: between two of their lines, after their last line when the
        deleted text is indented as their body, or decorators deleted from
        just above them.
    """
    names: set[str] = set()
    for hunk in hunks:
        if hunk.count > 0:
            last = hunk.start + hunk.count - 1
            names.update(s.name for s in spans if s.start <= last and hunk.start <= s.end)
            continue
        texts = [t for t in hunk.deleted if t.strip()]
        indent = _indent(texts[0]) if texts else 0
        for span in spans:
            inside = span.covers(hunk.start) and span.covers(hunk.start + 1)
            tail = span.end == hunk.start and indent >= span.body_indent > 0
            head = span.start == hunk.start + 1 and only_decorators(texts)
            if inside or tail or head:
                names.add(span.name)
    return names


def only_decorators(texts: list[str]) -> bool:
    """Return whether deleted lines are decorators only (no ``def``/``class``).

    Parameters
    ----------
    texts
        The non-blank deleted lines of a hunk.

    Returns
    -------
    bool
        True when the first line is a decorator and no line at its indent
        starts a function or class.
    """
    if not texts or not texts[0].lstrip().startswith("@"):
        return False
    level = _indent(texts[0])
    starts = ("def ", "async def ", "class ")
    return not any(_indent(t) == level and t.lstrip().startswith(starts) for t in texts)


def _tracked(repo: pathlib.Path, file: str) -> bool:
    listed = _git(repo, "ls-files", "--error-unmatch", "--", file)
    return listed.returncode == 0


def changed_in_file(repo: pathlib.Path, base: str, file: str) -> set[str]:
    """Return the functions of one file changed since ``base``.

    Parameters
    ----------
    repo
        The git work tree.
    base
        A ref already checked with :func:`check_ref`.
    file
        A path relative to ``repo``.

    Returns
    -------
    set[str]
        Changed or new function names; empty when the file is gone.

    Raises
    ------
    ValueError
        When git fails or the current file is not valid Python.
    """
    path = repo / file
    if not path.is_file():
        return set()
    source = path.read_text(encoding="utf-8")
    try:
        spans = function_spans(source)
    except SyntaxError as exc:
        msg = f"cannot parse {file}: {exc}"
        raise ValueError(msg) from exc
    if not _tracked(repo, file):
        return {span.name for span in spans}
    diff = _git(
        repo,
        "diff",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        base,
        "--",
        file,
    )
    if diff.returncode != 0:
        msg = f"git diff {base} -- {file} failed: {diff.stderr.strip()}"
        raise ValueError(msg)
    return touched(spans, parse_hunks(diff.stdout))


def changed_functions(repo: pathlib.Path, base: str, files: list[str]) -> dict[str, set[str]]:
    """Return, per target file, the functions whose lines changed since ``base``.

    Parameters
    ----------
    repo
        The git work tree (the project root).
    base
        A git ref; the working tree (committed or not) is compared with it.
    files
        Target files relative to ``repo``.

    Returns
    -------
    dict[str, set[str]]
        ``{file: {"func", "Class.method", ...}}`` for every file given;
        top-level functions and methods only, new ones included, deleted
        ones not.

    Raises
    ------
    ValueError
        ``unknown git ref 'X'`` for a ref git cannot resolve, or when a file
        cannot be diffed or parsed.
    """
    check_ref(repo, base)
    return {file: changed_in_file(repo, base, file) for file in files}
