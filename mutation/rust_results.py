"""The Rust phase's result file as others read it: inputs, freshness, locations.

``mutation/results/rust.json`` records, under :data:`RUST_INPUTS`, the
digest of every function of the mutated sources, and in ``inputs_digest``
the digest of everything else a verdict depends on (the crate's tests, the
Python pump tests, the catalogue, the verdict settings, the pinned
cargo-mutants): the same fingerprints the phase's re-use cache keys on
(:mod:`mutation.rust_cache`). :func:`rust_stale` compares them with the
current tree, so the reports can refuse stale Rust outcomes.

Both cargo-mutants' diffs and the Rust catalogue's are whole-file diffs;
:func:`relocate` places every Rust mutant from its diff, as the Python phase
does, so that the reports' location check holds for Rust mutants too.
"""

from __future__ import annotations

import typing as typ
from collections.abc import Callable, Iterable

from mutation.locations import locate_in_diff
from mutation.rust_cache import source_functions, tests_digest

if typ.TYPE_CHECKING:
    from mutation.results import MutantResult, Results
    from mutation.rust_config import RustConfig

RUST_INPUTS = "rust-functions"
"""The ``Results.inputs`` group of a Rust result file: ``{file::function: digest}``."""

TESTS_CHANGED = (
    "the Rust phase's tests, catalogue or verdict settings "
    "(crate tests, Python pump tests, catalogue_rust.toml, [mutation.rust], cargo-mutants pin)"
)
"""How :func:`rust_stale` names a change of ``inputs_digest`` (one hash, no file)."""


def function_inputs(functions: dict[str, dict[str, str]]) -> dict[str, str]:
    """Flatten :func:`~mutation.rust_cache.source_functions` to ``{file::function: digest}``.

    Parameters
    ----------
    functions
        ``{source file: {function: digest}}``.

    Returns
    -------
    dict[str, str]
        One entry per function of every source.
    """
    return {
        f"{file}::{name}": digest
        for file, by_name in functions.items()
        for name, digest in by_name.items()
    }


def rust_stale(results: Results, config: RustConfig) -> list[str]:
    """Return what changed since the Rust phase wrote ``results``.

    Parameters
    ----------
    results
        A loaded Rust result file.
    config
        The phase's current settings (``[mutation.rust]``).

    Returns
    -------
    list[str]
        Sorted ``file::function`` names added, removed or changed, then
        :data:`TESTS_CHANGED` when the tests' digest differs; empty when
        the results are current.
    """
    then = results.inputs.get(RUST_INPUTS, {})
    now = function_inputs(source_functions(config))
    changed = sorted(name for name in set(then) | set(now) if then.get(name) != now.get(name))
    if results.inputs_digest != tests_digest(config):
        changed.append(TESTS_CHANGED)
    return changed


CARGO_MUTANTS_MARK = " /* ~ changed by cargo-mutants ~ */"
"""The comment cargo-mutants appends to the code it inserts."""


def relocate(mutants: Iterable[MutantResult], read: Callable[[str], str | None]) -> None:
    """Set every Rust mutant's lines and columns from its whole-file diff.

    cargo-mutants reports spans with an exclusive end column and the Rust
    catalogue only knows where its ``find`` text starts; the diff says
    exactly which text changes. Mutants without a diff or an unreadable
    file keep their recorded location (the reports' check then names them).

    Parameters
    ----------
    mutants
        Mutants of a Rust result file (others are left alone).
    read
        Returns the unmutated text of a repo-relative file (``None``:
        unreadable).

    Raises
    ------
    mutation.locations.LocationError
        If a diff does not occur in its file.
    """
    for mutant in mutants:
        if mutant.language != "rust" or not mutant.diff:
            continue
        source = read(mutant.file)
        if source is None:
            continue
        where = locate_in_diff(mutant.diff, source, file=mutant.file)
        mutant.line_start, mutant.line_end = where.line_start, where.line_end
        mutant.column_start, mutant.column_end = where.column_start, where.column_end
