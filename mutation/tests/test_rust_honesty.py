"""Proof the Rust phase is honest: the real cargo-mutants on real crates.

One fixture is a tiny dependency-free crate (quick to build): with a
weakened test the Rust gate fails and names the survivor; with the full
test it passes, and an unchanged re-run re-uses every verdict without
building. The other runs the project's own crate with one of its unit tests
removed, narrowed to the ``is_available`` mutant: ``cargo test`` misses it,
the Python test drives the mutated extension and kills it, and the result
says so.
"""

from __future__ import annotations

import html
import json
import pathlib
import shutil
import signal
import types
from collections.abc import Iterator

import pytest

from mutation.report import main as report_main
from mutation.results import RESULTS_SCHEMA, Results
from mutation.tests.factories import save_results
from mutation.tests.ring_crate import REPO, RING_TESTS
from mutation.tests.ring_crate import make_ring as _ring
from mutation.tests.ring_crate import require_tools as _require_tools
from mutation.tests.ring_crate import run_phase as _phase

LIMIT_SECONDS = 900


def _too_long(signum: int, frame: types.FrameType | None) -> None:
    del signum, frame
    msg = f"a Rust honesty test exceeded {LIMIT_SECONDS} s"
    raise TimeoutError(msg)


@pytest.fixture(autouse=True)
def per_test_limit() -> Iterator[None]:
    """Replace the suite's 30 s bound: these tests build and mutate crates."""
    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _results(root: pathlib.Path, name: str = "results/rust.json") -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / name).read_text())
    return loaded


def test_weakened_rust_test_fails_the_gate_and_names_the_survivor(tmp_path: pathlib.Path) -> None:
    _require_tools()
    weak = RING_TESTS.replace("    assert!(is_ready());\n", "")
    root = _ring(tmp_path, weak)
    run = _phase(root)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "[FAIL] rust survivors" in run.stdout
    assert "replace is_ready -> bool with false" in run.stdout
    mutants = {m["id"]: m for m in _results(root)["mutants"]}  # type: ignore[attr-defined]
    survivor = next(m for ident, m in mutants.items() if "is_ready -> bool with false" in ident)
    assert survivor["status"] == "survived"
    assert survivor["language"] == "rust"
    assert survivor["origin"] == "cargo-mutants"
    assert survivor["file"] == "ring/src/lib.rs"
    assert survivor["line_start"] == 10
    assert mutants["ring-upper-bound-off"]["status"] == "killed"
    assert mutants["ring-upper-bound-off"]["killers"][0]["test"] == "ring::chunks_are_clamped"


def test_full_rust_tests_pass_the_gate_and_an_unchanged_rerun_reuses_everything(
    tmp_path: pathlib.Path,
) -> None:
    _require_tools()
    root = _ring(tmp_path, RING_TESTS)
    first = _phase(root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "[pass] rust score ring/src/lib.rs" in first.stdout
    again = _phase(root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "re-used (nothing changed)" in again.stdout
    assert "baseline" not in again.stdout
    # Editing one function re-runs only its mutants.
    source = root / "ring" / "src" / "lib.rs"
    source.write_text(source.read_text().replace("    true\n", "    // checked\n    true\n"))
    third = _phase(root)
    assert third.returncode == 0, third.stdout + third.stderr
    reused, to_run = _counts(third.stdout)
    assert to_run >= 1, third.stdout
    assert reused >= 2, third.stdout


def _counts(output: str) -> tuple[int, int]:
    line = next(line for line in output.splitlines() if " re-used, " in line)
    reused = int(line.split(" re-used, ")[0].rsplit(" ", 1)[-1])
    to_run = int(line.split(" re-used, ")[1].split(" ", 1)[0])
    return reused, to_run


def test_sharded_runs_split_the_mutants_between_them(tmp_path: pathlib.Path) -> None:
    _require_tools()
    root = _ring(tmp_path, RING_TESTS)
    judged: list[set[str]] = []
    for shard in ("1/2", "2/2"):
        run = _phase(root, "--shard", shard)
        assert run.returncode == 0, run.stdout + run.stderr
        name = f"results/rust-shard-{shard.replace('/', '-of-')}.json"
        mutants = _results(root, name)["mutants"]
        judged.append({m["id"] for m in mutants if m["status"] != "not_run"})  # type: ignore[attr-defined]
    assert judged[0]
    assert judged[1]
    assert not judged[0] & judged[1]


def _project_without_available_test(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "results", "*.so", "target", "mutants.out*")
    for name in ("cuprum", "tests", "features", "mutation", "rust_extension"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    for name in ("conftest.py", "setup.cfg", "pyproject.toml"):
        shutil.copy2(REPO / name, root / name)
    # Warm build directories from earlier kit runs save compiling PyO3.
    if (REPO / ".mutation-work").is_dir():
        shutil.copytree(REPO / ".mutation-work", root / ".mutation-work", symlinks=True)
    lib = root / "rust_extension" / "src" / "lib.rs"
    text = lib.read_text()
    start = text.index("    #[test]\n    fn is_available_says_yes()")
    end = text.index("    #[test]", start + 10)
    lib.write_text(text[:start] + text[end:])
    cfg = root / "setup.cfg"
    text = cfg.read_text()
    start = text.index("python_tests =\n", text.index("[mutation.rust]"))
    end = text.index("\nresults =", start)
    only_test = "python_tests =\n    cuprum/unittests/test_rust_pump.py::test_is_available"
    cfg.write_text(text[:start] + only_test + text[end:])
    return root


def test_mutant_cargo_test_misses_is_killed_by_a_python_test(tmp_path: pathlib.Path) -> None:
    _require_tools()
    root = _project_without_available_test(tmp_path)
    run = _phase(root, "--only", r"replace is_available -> bool with false")
    output = run.stdout + run.stderr
    assert "cross-language kill:" in run.stdout, output
    mutants = _results(root, "mutation/results/rust.json")["mutants"]
    mutant = next(
        m
        for m in mutants  # type: ignore[attr-defined]
        if "replace is_available -> bool with false" in m["id"]
    )
    assert mutant["status"] == "killed", output
    assert mutant["detail"].startswith("missed by cargo test (survived)")
    killer = mutant["killers"][0]
    assert killer["language"] == "python"
    assert killer["test"] == "cuprum/unittests/test_rust_pump.py::test_is_available"
    assert f"cross-language kill: {mutant['id']} by Python test {killer['test']}" in run.stdout
    # The reports name the cross-language kill too (no Python phase ran in
    # this copy: an empty Python result file stands for it).
    empty = Results(RESULTS_SCHEMA, "2026-01-02T00:00:00+00:00", {}, "", {}, [], [], [], {}, [])
    save_results(empty, root)
    assert report_main(["--root", str(root)]) == 0
    page = (root / "mutation/results/report/mutation-report.html").read_text(encoding="utf-8")
    card = page.split(f'data-id="{html.escape(mutant["id"])}"', 1)[1].split("</article>")[0]
    assert "Killed by a Python test" in card
    assert f"<code>{html.escape(killer['test'])}</code>" in card
