"""Mutant source: the kit's generated operators (libcst), run by the engine.

:func:`~mutation.operators.generate_mutants` lists the statement-level
mutants mutmut lacks; this module turns them into the engine's
:class:`~mutation.mutants.Mutant`, so they run in the same executor
session as mutmut's and the catalogue's, re-use verdicts by key, shard and
appear in every report.

A mutant inside a function body is switched on by code swap (``code``
activation) of the function that the kit's coverage and review mode know:
a top-level function or a method. A mutant of a nested function swaps its
enclosing function, whose code object carries the mutated inner code as a
constant. A mutant outside every function body (a module- or class-level
statement) changes what importing the module does, so it gets a mutated
copy of its own (``file`` activation) and every test of the kit.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable

from mutation.baseline import body_spans
from mutation.config import ConfigError
from mutation.locations import require_valid_locations
from mutation.mutants import Activation, ActivationKind, Mutant, module_name
from mutation.operators import GeneratedMutant, generate_mutants
from mutation.results import MutantResult


def replay_command(mutant_id: str) -> str:
    """Return the one-line command that re-runs a generated mutant and its killers."""
    return f".venv/bin/python -m mutation replay {mutant_id}"


def swap_owner(function: str, spans: dict[str, tuple[int, int]]) -> str | None:
    """Return the function whose code is swapped for a mutant in ``function``.

    The longest dotted prefix of ``function`` that is a top-level function
    or a method (a key of ``spans``); ``None`` outside every one.
    """
    parts = function.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in spans:
            return candidate
    return None


def _mutant(generated: GeneratedMutant, spans: dict[str, tuple[int, int]]) -> Mutant:
    owner = swap_owner(generated.function, spans)
    inside = owner is not None and generated.line_start >= spans[owner][0]
    kind: ActivationKind = "code" if inside else "file"
    function = owner if owner is not None else generated.function
    result = MutantResult(
        id=generated.id,
        origin="generated",
        file=generated.file,
        function=function,
        line_start=generated.line_start,
        line_end=generated.line_end,
        column_start=generated.column_start,
        column_end=generated.column_end,
        original=generated.original,
        replacement=generated.replacement,
        diff=generated.diff,
        status="not_run",
        mutator=generated.operator,
        replay=replay_command(generated.id),
    )
    activation = Activation(
        kind=kind,
        module=module_name(generated.file),
        path=generated.file,
        function=function,
        source=generated.mutated,
    )
    return Mutant(result, activation)


def generated_mutants(root: pathlib.Path, targets: Iterable[str]) -> list[Mutant]:
    """Generate every operator's mutants of every target under ``root`` (read only).

    Raises
    ------
    ConfigError
        If a target is not valid Python (naming it), before any test runs.
    LocationError
        If a mutant's recorded location does not match its file.
    """
    mutants: list[Mutant] = []
    sources: dict[str, str] = {}
    for target in targets:
        source = (root / target).read_text(encoding="utf-8")
        sources[target] = source
        try:
            spans = body_spans(source)
            found = generate_mutants(source, target)
        except SyntaxError as exc:
            msg = f"{target}: not valid Python, so no mutant can be generated: {exc}"
            raise ConfigError(msg) from None
        mutants.extend(_mutant(g, spans) for g in found)
    require_valid_locations([m.result for m in mutants], sources.get)
    return mutants
