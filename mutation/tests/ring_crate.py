"""A tiny dependency-free crate and the real Rust phase run over it.

Shared by the Rust phase's honesty tests and the report tests: the crate
builds in seconds, so a real cargo-mutants run over it (a handful of
mutants, one catalogue entry) fits in a test.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TOOLS = REPO / ".cargo-tools" / "bin"


def require_tools() -> None:
    """Skip without cargo and cargo-mutants (fail in CI, which must have them)."""
    if os.environ.get("CUPRUM_EXPECT_NATIVE") == "absent":
        pytest.skip("builds crates: runs once, in the with-extension run (make test-native)")
    found = (TOOLS / "cargo-mutants").is_file() or shutil.which("cargo-mutants")
    if shutil.which("cargo") and found:
        return
    reason = "needs cargo and cargo-mutants (run `make cargo-mutants`)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must have them: {reason}")
    pytest.skip(reason)


def run_phase(root: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mutation.rust_phase run *args`` in ``root`` (the kit from this checkout)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("CUPRUM_EXPECT_NATIVE", None)
    return subprocess.run(
        [sys.executable, "-m", "mutation.rust_phase", "run", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


RING_SOURCE = """//! A tiny crate for the kit's own tests.

/// Clamp a requested chunk size to 1..=64.
pub fn clamp_chunk(size: usize) -> usize {
    size.clamp(1, 64)
}

/// Whether the ring is ready.
pub fn is_ready() -> bool {
    true
}
"""

RING_TESTS = """use ring::{clamp_chunk, is_ready};

#[test]
fn chunks_are_clamped() {
    assert_eq!(clamp_chunk(0), 1);
    assert_eq!(clamp_chunk(7), 7);
    assert_eq!(clamp_chunk(100), 64);
}

#[test]
fn ring_is_ready() {
    assert!(is_ready());
}
"""

RING_CATALOGUE = """
[[mutant]]
id = "ring-upper-bound-off"
claim = "chunks are at most 64 bytes"
file = "ring/src/lib.rs"
function = "clamp_chunk"
find = "size.clamp(1, 64)"
replace = "size.clamp(1, 65)"
"""

RING_CONFIG = """
[mutation.rust]
crate = ring
sources = ring/src/lib.rs
catalogue = catalogue_rust.toml
python_tests = test_nothing.py
results = results/rust.json
rust_score_min = 1.0
max_survivors = 0
timeout_multiplier = 3
minimum_timeout = 20
jobs = 2
cross_language = no
"""


def make_ring(tmp_path: pathlib.Path, tests: str) -> pathlib.Path:
    """Write the ring project (crate, catalogue, settings) with ``tests`` as its test file."""
    root = tmp_path / "ring-project"
    (root / "ring" / "src").mkdir(parents=True)
    (root / "ring" / "tests").mkdir()
    (root / "ring" / "Cargo.toml").write_text(
        '[package]\nname = "ring"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
    )
    (root / "ring" / "src" / "lib.rs").write_text(RING_SOURCE)
    (root / "ring" / "tests" / "ring.rs").write_text(tests)
    (root / "catalogue_rust.toml").write_text(RING_CATALOGUE)
    (root / "test_nothing.py").write_text("")
    (root / "setup.cfg").write_text(RING_CONFIG)
    return root
