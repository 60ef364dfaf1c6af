"""Sharding: a deterministic partition of the mutants, and merging the parts.

``run --shard k/n`` runs every n-th mutant (by id order, from the k-th) and
writes a partial result beside the results file; ``merge FILES...`` checks
that the parts come from the same inputs and together cover every shard
once, then applies excuses, evaluates the gates and writes the result file
and the reports as one unsharded run would.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import re

from mutation.config import ConfigError
from mutation.mutants import Mutant
from mutation.results import InvalidResultsError, MutantResult, Results, load_results

_SHARD = re.compile(r"^(?P<index>[1-9]\d*)/(?P<count>[1-9]\d*)$")


@dataclasses.dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int


def parse_shard(text: str) -> Shard:
    """Parse ``k/n``.

    Raises
    ------
    ConfigError
        Unless ``1 <= k <= n``.
    """
    match = _SHARD.match(text.strip())
    if match is None or int(match["index"]) > int(match["count"]):
        msg = f"--shard {text!r}: use k/n with 1 <= k <= n, e.g. --shard 2/4"
        raise ConfigError(msg)
    return Shard(int(match["index"]), int(match["count"]))


def take_shard(mutants: list[Mutant], shard: Shard) -> list[Mutant]:
    """Return this shard's mutants: every ``count``-th of them in id order."""
    ordered = sorted(mutants, key=lambda m: (m.origin, m.id))
    return ordered[shard.index - 1 :: shard.count]


def shard_path(results: pathlib.Path, shard: Shard) -> pathlib.Path:
    """Where a shard's partial result goes, beside the results file."""
    return results.with_name(f"shard-{shard.index}-of-{shard.count}.json")


def load_shards(paths: list[pathlib.Path]) -> tuple[Results, list[MutantResult]]:
    """Load and check partial results; return the first and every mutant.

    Raises
    ------
    InvalidResultsError
        If a file is not a shard's result, the shards differ in inputs or
        in their count, one is repeated, or one is missing.
    """
    if not paths:
        raise InvalidResultsError("merge needs the shard files of one run (shard-*-of-*.json)")
    parts = [(path, load_results(path)) for path in paths]
    for path, part in parts:
        if not part.shard:
            msg = f"{path} is not a shard's partial result (run with --shard k/n)"
            raise InvalidResultsError(msg)
    first_path, first = parts[0]
    count = int(first.shard.split("/")[1])
    seen: dict[int, pathlib.Path] = {}
    for path, part in parts:
        if part.inputs_digest != first.inputs_digest:
            msg = (
                f"refusing to merge: {path} and {first_path} were computed from different "
                "inputs (another commit or configuration); re-run every shard on one tree"
            )
            raise InvalidResultsError(msg)
        index, of = (int(n) for n in part.shard.split("/"))
        if of != count:
            msg = f"refusing to merge: {path} is shard {part.shard}, {first_path} is of {count}"
            raise InvalidResultsError(msg)
        if index in seen:
            msg = f"refusing to merge: shard {index}/{count} given twice ({seen[index]}, {path})"
            raise InvalidResultsError(msg)
        seen[index] = path
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        msg = f"refusing to merge: missing shard(s) {', '.join(f'{k}/{count}' for k in missing)}"
        raise InvalidResultsError(msg)
    mutants = [m for _, part in parts for m in part.mutants]
    return first, mutants


def _rust_for_merge(root: pathlib.Path) -> tuple[Results | None, str]:
    """Return the Rust phase's results for the merged reports, or why there are none.

    The merge writes the Python result file whatever the Rust one holds, so a
    stale or invalid Rust file leaves its outcomes out with a note (printed
    and in the reports) instead of failing the merge.
    """
    from mutation.report_rust import rust_for_report

    try:
        rust = rust_for_report(root, None, allow_stale=False)
    except InvalidResultsError as exc:
        note = f"Rust results not included: {exc}"
        print(note)
        return None, note.splitlines()[0]
    if rust.note:
        print(rust.note)
    return rust.results, rust.note


def command_merge(args: argparse.Namespace) -> int:
    """Merge shard results into the result file, gates and reports."""
    from mutation.assemble import apply_excuses, assemble, canonical_order, write_results
    from mutation.catalogue import load_catalogue
    from mutation.config import load_config
    from mutation.generated_excuses import (
        apply_generated_excuses,
        check_excuses,
        load_generated_excuses,
    )
    from mutation.mutmut_source import load_excused
    from mutation.report import DEFAULT_OUT, stale_for, write_reports
    from mutation.summary import render_summary

    root = pathlib.Path.cwd()
    config = load_config(root)
    first, mutants = load_shards([pathlib.Path(p) for p in args.files])
    catalogue_ids = [e.id for e in load_catalogue(root / config.catalogue, config.targets)]
    ordered = canonical_order(mutants, catalogue_ids)
    if any(m.origin == "mutmut" for m in ordered):
        apply_excuses(ordered, load_excused(root / config.excused), config.excused)
    if any(m.origin == "generated" for m in ordered):
        generated_excused = load_generated_excuses(root / config.excused)
        check_excuses(generated_excused, ordered, config.excused)
        apply_generated_excuses(ordered, generated_excused)
    durations = {t.test: t.duration for t in first.tests}
    results = assemble(
        config,
        inputs=first.inputs,
        digest=first.inputs_digest,
        phases=first.phases,
        mutants=ordered,
        coverage=first.coverage,
        durations=durations,
        selection=[],
        ratchet=True,
    )
    write_results(results, root / config.results)
    out = root / (args.out or DEFAULT_OUT)
    rust, rust_note = _rust_for_merge(root)
    written = write_reports(
        results, root, out, stale=stale_for(results, root), rust=rust, rust_note=rust_note
    )
    print(render_summary(results))
    print(f"merged {len(args.files)} shards; results: {config.results}")
    print("reports: " + ", ".join(str(p.relative_to(root)) for p in written))
    return 0 if results.passed else 1
