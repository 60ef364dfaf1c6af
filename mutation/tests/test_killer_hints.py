"""Killer hints: the last known killer of a mutant runs first, and nothing else changes."""

from __future__ import annotations

import json
import pathlib

import pytest

from mutation.killer_hints import killer_hints, put_killers_first
from mutation.mutants import Activation, Mutant
from mutation.report_trend import write_snapshot
from mutation.results import RESULTS_SCHEMA, Killer, MutantResult, Results, Status
from mutation.tests.fixture_project import kit, make_project

DIFF = "--- a/pkg/a.py\n+++ b/pkg/a.py\n@@ -2,1 +2,1 @@\n-    return a + b\n+    return a - b\n"


def _result(
    ident: str, status: Status, tests: list[str], killers: tuple[str, ...] = ()
) -> MutantResult:
    return MutantResult(
        id=ident,
        origin="mutmut",
        file="pkg/a.py",
        function="add",
        line_start=2,
        line_end=2,
        original="return a + b",
        replacement="return a - b",
        diff=DIFF.replace("a - b", f"a - b  # {ident[-1]}"),
        status=status,
        killers=[Killer(test=k, message="failed") for k in killers],
        tests=tests,
    )


def _results(*mutants: MutantResult) -> Results:
    return Results(
        schema=RESULTS_SCHEMA,
        created="2026-11-27T00:00:00+00:00",
        inputs={},
        inputs_digest="",
        phases={},
        modules=[],
        mutants=list(mutants),
        tests=[],
        coverage={},
        gates=[],
    )


def _mutant(result: MutantResult) -> Mutant:
    return Mutant(result, Activation(kind="env", name=result.id))


@pytest.fixture
def last_run() -> Results:
    return _results(
        _result("pkg.a.x_add__mutmut_1", "killed", ["t::a", "t::k"], ("t::k", "t::a")),
        _result("pkg.a.x_add__mutmut_2", "survived", ["t::a", "t::k"]),
    )


def test_hints_name_each_killed_mutants_first_killer(last_run: Results) -> None:
    hints = killer_hints(last_run, pathlib.Path("/nonexistent"))
    assert list(hints.values()) == ["t::k"]


def test_the_snapshot_gives_the_same_hints_without_results(
    last_run: Results, tmp_path: pathlib.Path
) -> None:
    snapshot = tmp_path / "baseline-mutants.json"
    write_snapshot(last_run, snapshot)
    assert killer_hints(None, snapshot) == killer_hints(last_run, snapshot)
    assert killer_hints(None, tmp_path / "missing.json", snapshot) == killer_hints(last_run)
    assert killer_hints(None, tmp_path / "missing.json") == {}


def test_the_killer_moves_to_the_front_under_a_renumbered_id(last_run: Results) -> None:
    hints = killer_hints(last_run, pathlib.Path("/nonexistent"))
    # mutmut renumbered the mutants since (an edit above them): same changes, new ids.
    renumbered = _mutant(_result("pkg.a.x_add__mutmut_1", "not_run", ["t::a", "t::b", "t::k"]))
    renumbered.result.id = "pkg.a.x_add__mutmut_7"
    survivor = _mutant(_result("pkg.a.x_add__mutmut_2", "not_run", ["t::a", "t::k"]))
    survivor.result.id = "pkg.a.x_add__mutmut_8"
    assert put_killers_first([renumbered, survivor], hints, []) == 1
    assert renumbered.result.tests == ["t::k", "t::a", "t::b"]
    assert survivor.result.tests == ["t::a", "t::k"]


def test_a_killer_that_no_longer_covers_the_mutant_is_not_added(last_run: Results) -> None:
    hints = killer_hints(last_run, pathlib.Path("/nonexistent"))
    moved = _mutant(_result("pkg.a.x_add__mutmut_1", "not_run", ["t::a", "t::b"]))
    first = _mutant(_result("pkg.a.x_add__mutmut_1", "not_run", ["t::k", "t::a"]))
    assert put_killers_first([moved], hints, []) == 0
    assert moved.result.tests == ["t::a", "t::b"]
    assert put_killers_first([first], hints, []) == 0
    assert first.result.tests == ["t::k", "t::a"]


def test_a_forced_rerun_starts_with_the_killers_and_keeps_every_verdict(
    tmp_path: pathlib.Path,
) -> None:
    root = make_project(tmp_path / "p")
    # Runs before test_add (same speed, earlier id) and cannot tell a - b from a + b.
    suite = root / "fixture_tests" / "test_calc.py"
    suite.write_text(suite.read_text() + "\n\ndef test_a_zero_sum():\n    assert add(0, 0) == 0\n")
    first = kit(root, "run", "--force")
    assert first.returncode in (0, 1), first.stderr
    results = root / "kit" / "results" / "latest.json"
    before = {m["id"]: m["status"] for m in json.loads(results.read_text())["mutants"]}
    again = kit(root, "run", "--force")
    assert again.returncode == first.returncode, again.stderr
    # add's mutant is killed by test_add, second in the baseline's order.
    assert "start with their last known killer" in again.stderr
    data = json.loads(results.read_text())
    assert {m["id"]: m["status"] for m in data["mutants"]} == before
    hinted = [
        m for m in data["mutants"] if m["killers"] and m["tests"][0] == m["killers"][0]["test"]
    ]
    assert hinted
