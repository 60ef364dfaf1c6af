"""The kit's Rust phase: cargo-mutants, Rust catalogue, cross-language kills, gates.

``run_rust_phase`` returns every Rust mutant as a
:class:`~mutation.results.MutantResult` (``language="rust"``); the CLI
(``python -m mutation.rust_phase run``, ``make mutate-rust``) also writes
the result file and exits non-zero when a gate fails. Nothing runs in the
user's tree: the crate and the project are copied to scratch directories.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import time
from collections.abc import Callable

from mutation import cargo_mutants as cm
from mutation.catalogue import AppliedMutant, CatalogueMutant
from mutation.cross_language import PythonBench
from mutation.results import Killer, MutantResult
from mutation.rust_cache import catalogue_key, listed_key, shard_of, source_functions, tests_digest
from mutation.rust_catalogue import apply_rust_mutant, catalogue_result, load_rust_catalogue
from mutation.rust_config import RustConfig
from mutation.rust_gates import NOT_KILLED, apply_excuses, is_excused, load_rust_excused
from mutation.rust_runs import baseline, copy_crate, save_target, with_source
from mutation.workspace import scratch_directory

Progress = Callable[[str], None]
CACHE_SCHEMA = "cuprum-rust-phase-cache/1"
TARGET_CACHE = pathlib.Path(".mutation-work/rust-target")
XL_TARGET_CACHE = pathlib.Path(".mutation-work/rust-xl-target")
"""Build directories kept between runs (ignored by git), so that a warm run
compiles only the crate, not its dependencies."""


@dataclasses.dataclass
class PhaseRun:
    """What one Rust phase run produced, beyond the mutants themselves."""

    mutants: list[MutantResult]
    reused: int
    ran: int
    phases: dict[str, float]
    cache: dict[str, object]


def cache_path(config: RustConfig, shard: tuple[int, int] | None) -> pathlib.Path:
    """Return the sidecar that holds the keys of the last run (beside its results)."""
    results = config.root / results_path(config, shard)
    return results.with_name(results.stem + "-cache.json")


def results_path(config: RustConfig, shard: tuple[int, int] | None) -> str:
    """Return the result file, one per shard when sharded."""
    if shard is None:
        return config.results
    path = pathlib.PurePosixPath(config.results)
    return str(path.with_name(f"{path.stem}-shard-{shard[0] + 1}-of-{shard[1]}{path.suffix}"))


def _load_cache(path: pathlib.Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return raw if isinstance(raw, dict) and raw.get("schema") == CACHE_SCHEMA else {}


def _cached_results(cache: dict[str, object]) -> dict[str, MutantResult]:
    by_key: dict[str, MutantResult] = {}
    for key, raw in dict(cache.get("mutants", {})).items():  # type: ignore[call-overload]
        killers = [Killer(**k) for k in raw["killers"]]
        by_key[key] = MutantResult(**{**raw, "killers": killers})
    return by_key


def _relocate(old: MutantResult, new: MutantResult) -> MutantResult:
    """Return an earlier verdict carried over to the mutant's current position."""
    return dataclasses.replace(
        new,
        status=old.status,
        killers=old.killers,
        duration=old.duration,
        detail=old.detail,
        excuse="",
    )


def run_rust_phase(
    config: RustConfig,
    *,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    only: str | None = None,
    progress: Progress = print,
) -> PhaseRun:
    """Run (or re-use) every Rust mutant and return the results.

    ``shard`` runs shard ``(k, n)`` of the sorted mutant names (0-based);
    ``only`` runs the mutants whose name or catalogue id matches that
    regular expression. Mutants left out are ``not_run`` and not scored.

    Raises
    ------
    mutation.config.ConfigError
        Bad settings, a catalogue entry that no longer applies, a missing or
        wrongly pinned cargo-mutants (exit 2).
    mutation.rust_runs.BaselineFailedError
        The crate's tests fail without a mutant (exit 4).
    mutation.cross_language.CrossLanguageError
        The Python pump tests fail on the unmutated extension (exit 4).
    """
    started = time.monotonic()
    root = config.root
    catalogue = load_rust_catalogue(root / config.catalogue, config.sources)
    texts = {source: (root / source).read_text(encoding="utf-8") for source in config.sources}
    applied = {m.id: apply_rust_mutant(m, texts[m.file]) for m in catalogue}
    excused = load_rust_excused(root / config.excused)
    digest = tests_digest(config)
    functions = source_functions(config)
    cache = {} if force else _load_cache(cache_path(config, shard))
    fresh = cache.get("tests_digest") == digest
    cached = _cached_results(cache) if fresh else {}
    phases: dict[str, float] = {}

    whole = only is None and cache.get("complete") is True
    if fresh and whole and cache.get("functions") == functions:
        # Nothing a verdict depends on changed: no cargo, no build.
        mutants = [dataclasses.replace(m) for m in cached.values()]
        finish_mutants(mutants, excused, config.excused)
        phases["reuse"] = round(time.monotonic() - started, 3)
        progress(f"rust phase: all {len(mutants)} mutants re-used (nothing changed)")
        return PhaseRun(mutants, len(mutants), 0, phases, cache)

    tool = cm.find_tool(root)
    crate_dir = root / config.crate
    with scratch_directory(prefix="cuprum-rust-mutation-") as scratch:
        crate = copy_crate(crate_dir, scratch / "crate", root / TARGET_CACHE)
        mark = time.monotonic()
        listed = cm.list_mutants(tool, crate)
        names = [m["name"] for m in listed]
        in_shard = shard_of(names + [m.id for m in catalogue], shard)
        if only is not None:
            selector = re.compile(only)
            in_shard = {name for name in in_shard if selector.search(name)}
        keyed = {m["name"]: listed_key(m, config.crate, texts) for m in listed}
        results: dict[str, MutantResult] = {}
        to_run: list[str] = []
        for mutant in listed:
            new = cm.to_result(mutant, f"{config.crate}/")
            new.original = cm.original_text(texts[new.file], mutant["span"])
            old = cached.get(keyed[mutant["name"]])
            if mutant["name"] not in in_shard:
                results[mutant["name"]] = new
            elif old is not None:
                results[mutant["name"]] = _relocate(old, new)
            else:
                to_run.append(mutant["name"])
        cat_keys = {m.id: catalogue_key(m, texts) for m in catalogue}
        cat_to_run: list[CatalogueMutant] = []
        for entry in catalogue:
            new = catalogue_result(entry, applied[entry.id])
            old = cached.get(cat_keys[entry.id])
            if entry.id not in in_shard:
                results[entry.id] = new
            elif old is not None:
                results[entry.id] = _relocate(old, new)
            else:
                cat_to_run.append(entry)
        # A stale excuse stops the run now, not after every mutant has run.
        apply_excuses(
            [cm.to_result(m, f"{config.crate}/") for m in listed], excused, config.excused
        )
        reused = sum(1 for r in results.values() if r.status != "not_run")
        progress(
            f"rust phase: {len(listed)} cargo-mutants mutants, {len(catalogue)} catalogue; "
            f"{reused} re-used, {len(to_run) + len(cat_to_run)} to run"
        )
        if to_run or cat_to_run:
            base = baseline(crate)
            timeout = max(config.minimum_timeout, config.timeout_multiplier * base)
            phases["baseline"] = round(time.monotonic() - mark, 3)
            progress(
                f"rust phase: baseline cargo test {base:.1f} s; mutant timeout {timeout:.0f} s"
            )
            if to_run:
                mark = time.monotonic()
                out = cm.run_mutants(
                    tool,
                    crate,
                    scratch / "cargo-mutants",
                    to_run,
                    jobs=config.jobs,
                    timeout_multiplier=config.timeout_multiplier,
                    minimum_timeout=config.minimum_timeout,
                )
                crate_texts = {config.crate_relative(s): t for s, t in texts.items()}
                by_name = {m["name"]: m for m in listed}
                for result in cm.read_outcomes(out, f"{config.crate}/", crate_texts):
                    result.diff = result.diff or str(by_name.get(result.id, {}).get("diff", ""))
                    results[result.id] = result
                phases["cargo-mutants"] = round(time.monotonic() - mark, 3)
            mark = time.monotonic()
            for entry in cat_to_run:
                results[entry.id] = _run_catalogue_entry(
                    entry, applied[entry.id], crate, config, timeout
                )
                progress(f"rust catalogue: {entry.id} {results[entry.id].status}")
            phases["rust-catalogue"] = round(time.monotonic() - mark, 3)
            newly = [results[n] for n in to_run] + [results[e.id] for e in cat_to_run]
            if config.cross_language:
                mark = time.monotonic()
                _cross_language(
                    newly, listed, catalogue, applied, crate, scratch, config, excused, progress
                )
                phases["cross-language"] = round(time.monotonic() - mark, 3)
            save_target(crate, root / TARGET_CACHE)
        mutants = list(results.values())
    key_of = {**keyed, **cat_keys}
    # Cached before excuses apply, so that editing the excuses takes effect.
    current = set(key_of.values())
    kept = dict(cache.get("mutants", {})) if fresh else {}  # type: ignore[call-overload]
    kept = {key: value for key, value in kept.items() if key in current}
    kept.update({key_of[m.id]: dataclasses.asdict(m) for m in mutants if m.status != "not_run"})
    new_cache: dict[str, object] = {
        "schema": CACHE_SCHEMA,
        "tests_digest": digest,
        "functions": functions,
        # Only a run that judged every mutant may be re-used whole.
        "complete": all(m.status != "not_run" for m in mutants),
        "mutants": kept,
    }
    finish_mutants(mutants, excused, config.excused)
    phases["total"] = round(time.monotonic() - started, 3)
    return PhaseRun(mutants, reused, len(to_run) + len(cat_to_run), phases, new_cache)


def finish_mutants(
    mutants: list[MutantResult], excused: list[tuple[str, str, str]], path: str
) -> None:
    """Apply the excuses (see :func:`~mutation.rust_gates.apply_excuses`) and sort."""
    apply_excuses(mutants, excused, path)
    mutants.sort(
        key=lambda m: (m.origin != "catalogue", m.file, m.line_start, m.column_start, m.id)
    )


def _run_catalogue_entry(
    entry: CatalogueMutant,
    applied: AppliedMutant,
    crate: pathlib.Path,
    config: RustConfig,
    timeout: float,
) -> MutantResult:
    result = catalogue_result(entry, applied)
    run = with_source(
        crate,
        config.crate_relative(entry.file),
        applied.mutated,
        timeout=timeout,
    )
    result.duration = round(run.duration, 3)
    result.killers = run.killers
    result.status = {"failed": "killed", "passed": "survived", "timeout": "timeout"}.get(
        run.outcome, "error"
    )  # type: ignore[assignment]
    if run.outcome == "unviable":
        result.detail = f"the catalogue mutant does not build: {run.output.strip()[-300:]}"
    elif run.outcome == "timeout":
        result.detail = f"cargo test did not finish within {timeout:.0f} s"
    return result


def _cross_language(
    newly: list[MutantResult],
    listed: list[dict[str, object]],
    catalogue: list[CatalogueMutant],
    applied: dict[str, AppliedMutant],
    crate: pathlib.Path,
    scratch: pathlib.Path,
    config: RustConfig,
    excused: list[tuple[str, str, str]],
    progress: Progress,
) -> None:
    """Run the Python pump tests against every mutant ``cargo test`` missed."""
    # Excused mutants are equivalent (reasoned in the excuses file): no
    # Python test can kill them either, and each would cost a full run.
    missed = [m for m in newly if m.status in NOT_KILLED and not is_excused(m, excused)]
    if not missed:
        return
    by_name = {str(m["name"]): m for m in listed}
    by_id = {m.id: m for m in catalogue}
    bench = PythonBench.create(
        config.root, crate, scratch, config.python_tests, config.root / XL_TARGET_CACHE
    )
    duration = bench.baseline(config.timeout_multiplier, config.minimum_timeout)
    progress(
        f"cross-language: {len(missed)} mutants missed by cargo test; Python baseline "
        f"{duration:.1f} s, timeout {bench.timeout:.0f} s"
    )
    for result in missed:
        rel = config.crate_relative(result.file)
        source = (crate / rel).read_text(encoding="utf-8")
        if result.origin == "catalogue":
            text = applied[by_id[result.id].id].mutated
        else:
            text = cm.apply_to_source(source, by_name[result.id])
        error = bench.build(rel, text)
        if error is not None:
            result.detail = (
                f"{result.detail}; does not build as the extension: {error[-200:]}".strip("; ")
            )
            continue
        run = bench.run(timeout=bench.timeout)
        rust_status = result.status
        if run.outcome == "failed":
            result.status = "killed"
            result.killers = run.failures
            result.detail = f"missed by cargo test ({rust_status}); killed by a Python test"
        elif run.outcome == "timeout":
            result.detail = f"missed by cargo test ({rust_status}); Python tests timed out too"
        else:
            result.detail = (
                f"missed by cargo test ({rust_status}) and by the Python tests ({run.outcome})"
            )
        progress(f"cross-language: {result.id} {result.status}")
    save_target(bench.crate, config.root / XL_TARGET_CACHE)


if __name__ == "__main__":
    import sys

    from mutation.rust_cli import main

    sys.exit(main())
