"""Replaying one Rust mutant: its diff, then the tests it fails."""

from __future__ import annotations

import sys

from mutation import cargo_mutants as cm
from mutation.config import ConfigError
from mutation.cross_language import PythonBench
from mutation.rust_catalogue import apply_rust_mutant, load_rust_catalogue
from mutation.rust_config import RustConfig
from mutation.rust_gates import position_free
from mutation.rust_phase import TARGET_CACHE, XL_TARGET_CACHE
from mutation.rust_runs import baseline, copy_crate, with_source
from mutation.workspace import scratch_directory


def replay(config: RustConfig, mutant_id: str) -> int:
    """Apply ``mutant_id`` in a scratch copy and run the tests; 0 when killed.

    The crate's tests run first, then the Python pump tests if they miss it.

    Raises
    ------
    ConfigError
        If no mutant has that id.
    """
    root = config.root
    catalogue = {m.id: m for m in load_rust_catalogue(root / config.catalogue, config.sources)}
    with scratch_directory(prefix="cuprum-rust-replay-") as scratch:
        crate = copy_crate(root / config.crate, scratch / "crate", root / TARGET_CACHE)
        if mutant_id in catalogue:
            entry = catalogue[mutant_id]
            file = config.crate_relative(entry.file)
            applied = apply_rust_mutant(entry, (root / entry.file).read_text(encoding="utf-8"))
            text, diff = applied.mutated, applied.diff
        else:
            listed = cm.list_mutants(cm.find_tool(root), crate)
            found = [
                m
                for m in listed
                if m["name"] == mutant_id or position_free(m["name"]) == position_free(mutant_id)
            ]
            if len(found) != 1:
                msg = f"no single Rust mutant is called {mutant_id!r} ({len(found)} match)"
                raise ConfigError(msg)
            file = found[0]["file"]
            text = cm.apply_to_source((crate / file).read_text(encoding="utf-8"), found[0])
            diff = found[0].get("diff", "")
        print(diff)
        base = baseline(crate)
        timeout = max(config.minimum_timeout, config.timeout_multiplier * base)
        run = with_source(crate, file, text, timeout=timeout)
        print(f"cargo test: {run.outcome} in {run.duration:.1f} s")
        for killer in run.killers:
            print(f"  killed by Rust test {killer.test}: {killer.message}")
        if run.outcome == "failed":
            return 0
        bench = PythonBench.create(
            root, crate, scratch, config.python_tests, root / XL_TARGET_CACHE
        )
        bench.baseline(config.timeout_multiplier, config.minimum_timeout)
        error = bench.build(file, text)
        if error is not None:
            print(f"does not build as the extension: {error}")
            return 1
        python = bench.run(timeout=bench.timeout)
        print(f"Python tests: {python.outcome} in {python.duration:.1f} s")
        for killer in python.failures:
            print(f"  killed by Python test {killer.test}: {killer.message}")
        sys.stdout.flush()
        return 0 if python.outcome == "failed" else 1
