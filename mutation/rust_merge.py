"""Merging the Rust phase's shards into its unsharded result file.

``python -m mutation.rust_phase run --shard K/N`` judges every N-th mutant
(sorted by name) and writes ``rust-shard-K-of-N.json`` with the others
``not_run``. :func:`load_rust_shards` checks that a set of such files comes
from one tree (the same inputs digest and function fingerprints, the same
mutants, the same selection) and covers shards ``1..N`` exactly once, then
takes each mutant's verdict from the shard that judged it. The command line
(:mod:`mutation.rust_cli`) scores and gates the merged mutants as an
unsharded run does and writes the result file the reports read.

The shards' re-use caches (``rust-shard-K-of-N-cache.json``, beside each
file) are merged too when every one is there, so that an unsharded run
after the merge re-uses every verdict instead of judging them again.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

from mutation.results import InvalidResultsError, MutantResult, Results, load_results
from mutation.rust_results import RUST_INPUTS, TESTS_CHANGED

_SHARD_SELECTION = re.compile(r"^shard (\d+)/(\d+)$")


@dataclasses.dataclass
class MergedShards:
    """Shards that belong together, and their mutants with one verdict each.

    ``first`` supplies the inputs every shard shares; ``phases`` sums each
    phase's seconds over the shards (the work done, not the wall time).
    """

    paths: list[pathlib.Path]
    first: Results
    mutants: list[MutantResult]
    phases: dict[str, float]
    count: int


def shard_label(results: Results) -> str:
    """Return ``K/N`` of a Rust shard's result (``""`` for an unsharded one).

    A Rust shard says it in its selection (``"shard K/N"``), not in
    ``Results.shard``, which marks Python shards.
    """
    for entry in results.selection:
        match = _SHARD_SELECTION.match(entry)
        if match:
            return f"{match.group(1)}/{match.group(2)}"
    return ""


def _load(path: pathlib.Path) -> Results:
    if not path.is_file():
        msg = f"no shard result file at {path}"
        raise InvalidResultsError(msg)
    try:
        results = load_results(path)
    except InvalidResultsError as exc:
        msg = f"{path}: {exc}" if str(path) not in str(exc) else str(exc)
        raise InvalidResultsError(msg) from None
    foreign = next((m for m in results.mutants if m.language != "rust"), None)
    if foreign is not None or RUST_INPUTS not in results.inputs:
        msg = f"{path} is not a Rust phase result (merge Python shards with `python -m mutation merge`)"
        raise InvalidResultsError(msg)
    if not shard_label(results):
        msg = f"{path} is not a Rust shard's result (write shards with `run --shard K/N`)"
        raise InvalidResultsError(msg)
    return results


def _differences(
    path: pathlib.Path, part: Results, first_path: pathlib.Path, first: Results
) -> str:
    """Name what differs between two shards' inputs (``""`` when nothing does)."""
    what: list[str] = []
    then, now = first.inputs.get(RUST_INPUTS, {}), part.inputs.get(RUST_INPUTS, {})
    functions = sorted(name for name in set(then) | set(now) if then.get(name) != now.get(name))
    if functions:
        shown = ", ".join(functions[:5]) + (
            f" and {len(functions) - 5} more" if len(functions) > 5 else ""
        )
        what.append(f"functions {shown}")
    if part.inputs_digest != first.inputs_digest:
        what.append(f"the inputs digest ({TESTS_CHANGED})")
    if not what and {m.id for m in part.mutants} != {m.id for m in first.mutants}:
        odd = sorted({m.id for m in part.mutants} ^ {m.id for m in first.mutants})
        what.append(f"the mutants (e.g. {odd[0]!r} is in one only)")
    if not what:
        return ""
    return (
        f"refusing to merge: {path} and {first_path} were computed from different inputs "
        f"({'; '.join(what)} differ); re-run every shard on one tree"
    )


def load_rust_shards(paths: list[pathlib.Path]) -> MergedShards:
    """Load and check Rust shard results; return one verdict per mutant.

    Parameters
    ----------
    paths
        Every shard's result file of one sharded run.

    Returns
    -------
    MergedShards
        The mutants in the first file's order, each as the shard that
        judged it left it (``not_run`` only if no shard judged it, as after
        ``--only``).

    Raises
    ------
    InvalidResultsError
        If a file is missing, invalid, not a Rust shard's result, or the
        files differ in inputs, selection or shard count, repeat a shard,
        miss one, or judge one mutant twice.
    """
    if not paths:
        raise InvalidResultsError("merge needs the shard files of one run (rust-shard-K-of-N.json)")
    parts = [(path, _load(path)) for path in paths]
    first_path, first = parts[0]
    count = int(shard_label(first).split("/")[1])
    seen: dict[int, pathlib.Path] = {}
    for path, part in parts:
        refusal = _differences(path, part, first_path, first)
        if refusal:
            raise InvalidResultsError(refusal)
        label = shard_label(part)
        if [s for s in part.selection if not s.startswith("shard ")] != [
            s for s in first.selection if not s.startswith("shard ")
        ]:
            msg = (
                f"refusing to merge: {path} and {first_path} were run with different selections "
                f"({part.selection} vs {first.selection}); re-run the shards with the same options"
            )
            raise InvalidResultsError(msg)
        index, of = (int(n) for n in label.split("/"))
        if of != count:
            msg = f"refusing to merge: {path} is shard {label} but {first_path} is one of {count}"
            raise InvalidResultsError(msg)
        if index in seen:
            msg = f"refusing to merge: shard {index}/{count} given twice ({seen[index]} and {path})"
            raise InvalidResultsError(msg)
        seen[index] = path
    missing = [k for k in range(1, count + 1) if k not in seen]
    if missing:
        names = ", ".join(f"{k}/{count}" for k in missing)
        msg = f"refusing to merge: shard(s) {names} missing (given: {', '.join(map(str, paths))})"
        raise InvalidResultsError(msg)
    return MergedShards(list(paths), first, _one_verdict_each(parts), _summed(parts), count)


def _one_verdict_each(parts: list[tuple[pathlib.Path, Results]]) -> list[MutantResult]:
    judged: dict[str, tuple[pathlib.Path, MutantResult]] = {}
    for path, part in parts:
        for mutant in part.mutants:
            if mutant.status == "not_run":
                continue
            if mutant.id in judged:
                msg = (
                    f"refusing to merge: {mutant.id!r} was judged by both {judged[mutant.id][0]} "
                    f"and {path}; the shards overlap (were they run with different N?)"
                )
                raise InvalidResultsError(msg)
            judged[mutant.id] = (path, mutant)
    first = parts[0][1]
    return [judged[m.id][1] if m.id in judged else m for m in first.mutants]


def _summed(parts: list[tuple[pathlib.Path, Results]]) -> dict[str, float]:
    phases: dict[str, float] = {}
    for _, part in parts:
        for name, seconds in part.phases.items():
            phases[name] = round(phases.get(name, 0.0) + seconds, 3)
    return phases


def sidecar(path: pathlib.Path) -> pathlib.Path:
    """Return the re-use cache written beside a (shard's) result file."""
    return path.with_name(path.stem + "-cache.json")


def merged_cache(merged: MergedShards, schema: str) -> dict[str, object] | None:
    """Return the union of the shards' re-use caches, or ``None`` if one is unusable.

    A cache is usable when it is there, of ``schema``, and keyed on the same
    inputs as the results. The union is ``complete`` (re-usable whole by an
    unsharded run) when every mutant has a verdict.
    """
    caches: list[dict[str, object]] = []
    for path in merged.paths:
        try:
            raw = json.loads(sidecar(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if not isinstance(raw, dict) or raw.get("schema") != schema:
            return None
        if raw.get("tests_digest") != merged.first.inputs_digest:
            return None
        caches.append(raw)
    if any(cache.get("functions") != caches[0].get("functions") for cache in caches):
        return None
    mutants: dict[str, object] = {}
    for cache in caches:
        mutants.update(dict(cache.get("mutants", {})))  # type: ignore[call-overload]
    return {
        "schema": schema,
        "tests_digest": merged.first.inputs_digest,
        "functions": caches[0].get("functions"),
        "complete": all(m.status != "not_run" for m in merged.mutants),
        "mutants": mutants,
    }
