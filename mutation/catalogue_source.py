"""Mutant source: the must-kill catalogue, applied by code swap in the worker."""

from __future__ import annotations

import pathlib

from mutation.baseline import body_spans
from mutation.catalogue import CatalogueMutant, apply_mutant
from mutation.locations import locate_in_diff, require_valid_locations
from mutation.mutants import Activation, ActivationKind, Mutant, module_name
from mutation.results import MutantResult


def replay_command(mutant_id: str) -> str:
    """Return the one-line command that re-runs a catalogue mutant and its killers."""
    return f".venv/bin/python -m mutation replay {mutant_id}"


def catalogue_mutants(entries: list[CatalogueMutant], pristine: pathlib.Path) -> list[Mutant]:
    """Apply every entry to the pristine text (checking it still applies).

    Raises
    ------
    MutantDoesNotApplyError
        For the first entry whose code no longer matches its file, before
        any test runs.
    """
    mutants: list[Mutant] = []
    for entry in entries:
        source = (pristine / entry.file).read_text(encoding="utf-8")
        applied = apply_mutant(entry, source)
        where = locate_in_diff(applied.diff, source, file=entry.file)
        body = body_spans(source).get(entry.function, (0, 0))
        # A change to the body is swapped in live; one to a decorator or the
        # signature is only faithful when the module is imported mutated.
        kind: ActivationKind = "code" if applied.line_start >= body[0] else "file"
        result = MutantResult(
            id=entry.id,
            origin="catalogue",
            file=entry.file,
            function=entry.function,
            line_start=where.line_start,
            line_end=where.line_end,
            column_start=where.column_start,
            column_end=where.column_end,
            original=entry.find,
            replacement=entry.replace,
            diff=applied.diff,
            status="not_run",
            mutator="catalogue",
            claim=entry.claim,
            must_kill=True,
            replay=replay_command(entry.id),
        )
        require_valid_locations([result], {entry.file: source}.get)
        activation = Activation(
            kind=kind,
            module=module_name(entry.file),
            path=entry.file,
            function=entry.function,
            source=applied.mutated,
        )
        mutants.append(Mutant(result, activation, every_killer=True))
    return mutants
