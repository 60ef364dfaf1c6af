"""The Rust must-kill catalogue: named mutants of the pump's source.

Entries have the same fields and rules as the Python catalogue
(``mutation/catalogue.toml``): ``find`` must occur exactly once in
``file``, inside ``function`` (qualified as ``splice::via_pipe`` or
``Io::new``, or bare when unique), and is replaced by ``replace``.
"""

from __future__ import annotations

import difflib
import pathlib

from mutation.catalogue import (
    AppliedMutant,
    CatalogueMutant,
    MutantDoesNotApplyError,
    load_catalogue,
)
from mutation.results import MutantResult
from mutation.rust_source import find_function


def load_rust_catalogue(path: pathlib.Path, sources: tuple[str, ...]) -> list[CatalogueMutant]:
    """Read and validate the Rust catalogue (see :func:`load_catalogue`)."""
    return load_catalogue(path, sources)


def apply_rust_mutant(mutant: CatalogueMutant, source: str) -> AppliedMutant:
    """Apply ``mutant`` to the unmutated Rust ``source``.

    Raises
    ------
    MutantDoesNotApplyError
        If ``find`` occurs zero or several times, or lies outside the named
        function.
    """
    count = source.count(mutant.find)
    if count != 1:
        how = "no longer occurs" if count == 0 else f"occurs {count} times"
        msg = (
            f"Rust catalogue mutant {mutant.id!r}: its code {how} in {mutant.file}; "
            "update the entry's `find` to the current code (or remove the entry)"
        )
        raise MutantDoesNotApplyError(msg)
    offset = source.index(mutant.find)
    line_start = source.count("\n", 0, offset) + 1
    line_end = line_start + mutant.find.rstrip("\n").count("\n")
    fn = find_function(source, mutant.function)
    if fn is None or not (fn.line_start <= line_start and line_end <= fn.line_end):
        msg = (
            f"Rust catalogue mutant {mutant.id!r}: its code is not inside function "
            f"{mutant.function!r} of {mutant.file}; fix the entry's `function` "
            "(qualified like `splice::via_pipe` or `Io::new` when the name is not unique)"
        )
        raise MutantDoesNotApplyError(msg)
    mutated = source.replace(mutant.find, mutant.replace, 1)
    diff = "".join(
        difflib.unified_diff(
            source.splitlines(keepends=True),
            mutated.splitlines(keepends=True),
            fromfile=f"a/{mutant.file}",
            tofile=f"b/{mutant.file}",
        )
    )
    return AppliedMutant(mutated=mutated, line_start=line_start, line_end=line_end, diff=diff)


def catalogue_result(mutant: CatalogueMutant, applied: AppliedMutant) -> MutantResult:
    """Return a catalogue mutant as a kit result, before it is run."""
    column = 1 + len(mutant.find) - len(mutant.find.lstrip(" "))
    return MutantResult(
        id=mutant.id,
        origin="catalogue",
        file=mutant.file,
        function=mutant.function,
        line_start=applied.line_start,
        line_end=applied.line_end,
        original=mutant.find,
        replacement=mutant.replace,
        diff=applied.diff,
        status="not_run",
        mutator="catalogue",
        claim=mutant.claim,
        must_kill=True,
        replay=f".venv/bin/python -m mutation.rust_phase replay {mutant.id}",
        column_start=column,
        language="rust",
    )
