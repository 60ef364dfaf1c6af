"""The must-kill catalogue: named semantic mutants read from TOML."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import pathlib
import tomllib

from mutation.config import ConfigError

_REQUIRED = ("id", "claim", "file", "function", "find", "replace")


@dataclasses.dataclass(frozen=True)
class CatalogueMutant:
    """One named mutant: replace ``find`` (exactly once) with ``replace``.

    Parameters
    ----------
    id
        A short stable name, e.g. ``fallback-flipped``.
    claim
        The one-line behaviour the mutant breaks, which the tests must guard.
    file
        The target module, relative to the project root.
    function
        The function (or ``Class.method``) that ``find`` lies in.
    find
        The exact code replaced; it must occur exactly once in ``file``.
    replace
        The code put in its place.
    killers
        Tests expected to kill it (informative).
    """

    id: str
    claim: str
    file: str
    function: str
    find: str
    replace: str
    killers: tuple[str, ...] = ()


class MutantDoesNotApplyError(ConfigError):
    """A catalogue entry's code no longer matches its file."""


def load_catalogue(path: pathlib.Path, targets: tuple[str, ...]) -> list[CatalogueMutant]:
    """Read and validate the catalogue.

    Raises
    ------
    ConfigError
        If the file is not valid TOML, an entry lacks a field, an id repeats,
        or an entry names a file that is not a mutation target.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML: {exc}"
        raise ConfigError(msg) from None
    entries = data.get("mutant")
    if not isinstance(entries, list) or not entries:
        msg = f"{path}: no [[mutant]] entries"
        raise ConfigError(msg)
    mutants: list[CatalogueMutant] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        name = entry.get("id", f"entry #{index}")
        missing = [
            key
            for key in _REQUIRED
            if not isinstance(entry.get(key), str) or (key != "replace" and not entry[key])
        ]
        if missing:
            msg = f"{path}: catalogue mutant {name!r} lacks {', '.join(missing)}"
            raise ConfigError(msg)
        if name in seen:
            msg = f"{path}: catalogue mutant id {name!r} is used twice"
            raise ConfigError(msg)
        seen.add(name)
        if entry["file"] not in targets:
            msg = (
                f"{path}: catalogue mutant {name!r} targets {entry['file']!r}, which is "
                f"not a mutation target ({', '.join(targets)})"
            )
            raise ConfigError(msg)
        if entry["find"] == entry["replace"]:
            msg = f"{path}: catalogue mutant {name!r} replaces its code with itself"
            raise ConfigError(msg)
        mutants.append(
            CatalogueMutant(
                id=name,
                claim=entry["claim"],
                file=entry["file"],
                function=entry["function"],
                find=entry["find"],
                replace=entry["replace"],
                killers=tuple(entry.get("killers", ())),
            )
        )
    return mutants


def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """Map each function and method (``Class.method``) to its line span.

    Spans include decorators and are 1-based and inclusive.
    """
    spans: dict[str, tuple[int, int]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans[prefix + child.name] = (start, child.end_lineno or child.lineno)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(source), "")
    return spans


@dataclasses.dataclass(frozen=True)
class AppliedMutant:
    """A catalogue mutant applied to its file's text."""

    mutated: str
    line_start: int
    line_end: int
    diff: str


def apply_mutant(mutant: CatalogueMutant, source: str) -> AppliedMutant:
    """Apply ``mutant`` to ``source`` (the unmutated file text).

    Raises
    ------
    MutantDoesNotApplyError
        If ``find`` occurs zero or several times, lies outside the named
        function, or the result is not valid Python.
    """
    count = source.count(mutant.find)
    if count != 1:
        how = "no longer occurs" if count == 0 else f"occurs {count} times"
        msg = (
            f"catalogue mutant {mutant.id!r}: its code {how} in {mutant.file}; "
            "update the entry's `find` to the current code (or remove the entry)"
        )
        raise MutantDoesNotApplyError(msg)
    offset = source.index(mutant.find)
    line_start = source.count("\n", 0, offset) + 1
    line_end = line_start + mutant.find.rstrip("\n").count("\n")
    span = function_spans(source).get(mutant.function)
    if span is None or not (span[0] <= line_start and line_end <= span[1]):
        msg = (
            f"catalogue mutant {mutant.id!r}: its code is not inside function "
            f"{mutant.function!r} of {mutant.file}; fix the entry's `function`"
        )
        raise MutantDoesNotApplyError(msg)
    mutated = source.replace(mutant.find, mutant.replace, 1)
    try:
        ast.parse(mutated)
    except SyntaxError as exc:
        msg = (
            f"catalogue mutant {mutant.id!r}: the mutated {mutant.file} is not valid Python: {exc}"
        )
        raise MutantDoesNotApplyError(msg) from None
    diff = "".join(
        difflib.unified_diff(
            source.splitlines(keepends=True),
            mutated.splitlines(keepends=True),
            fromfile=f"a/{mutant.file}",
            tofile=f"b/{mutant.file}",
        )
    )
    return AppliedMutant(mutated=mutated, line_start=line_start, line_end=line_end, diff=diff)
