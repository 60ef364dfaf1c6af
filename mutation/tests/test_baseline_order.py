"""The order of a mutant's covering tests (fastest first, stable across runs) and of the jobs."""

from __future__ import annotations

from mutation.baseline import Baseline, speed_class
from mutation.execute import plan_jobs
from mutation.mutants import Activation, Mutant
from mutation.results import MutantResult
from mutation.tests.factories import kit_config


def _baseline(durations: dict[str, float], file: str = "m.py") -> Baseline:
    return Baseline(
        passed=True,
        failures=[],
        durations=durations,
        coverage={},
        lines={file: {3: set(durations)}},
        output="",
    )


def test_speed_classes_double_from_fifty_milliseconds() -> None:
    assert [speed_class(s) for s in (0.0, 0.049, 0.05, 0.099, 0.1, 0.2, 1.0)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        5,
    ]


def test_near_equal_tests_keep_one_order_whatever_their_measured_durations() -> None:
    # Two runs of the same suite: the instant tests swapped their raw durations.
    first = _baseline({"t::b": 0.0004, "t::a": 0.0009, "t::slow": 1.5, "t::mid": 0.3})
    second = _baseline({"t::b": 0.0011, "t::a": 0.0002, "t::slow": 1.4, "t::mid": 0.31})
    expected = ["t::a", "t::b", "t::mid", "t::slow"]
    assert first.covering("m.py", (1, 5)) == expected
    assert second.covering("m.py", (1, 5)) == expected


def test_tests_outside_the_span_or_without_a_duration_are_left_out() -> None:
    baseline = _baseline({"t::a": 0.001})
    baseline.lines["m.py"][9] = {"t::far", "t::a"}
    assert baseline.covering("m.py", (1, 5)) == ["t::a"]
    assert baseline.covering("m.py", (9, 9)) == ["t::a"]


def test_tests_that_run_the_mutated_statement_come_first() -> None:
    durations = {"t::fast": 0.001, "t::reaches": 1.5, "t::also": 0.3}
    baseline = _baseline(durations)
    # Line 3 opens the function (all three run it); only two reach line 5,
    # a statement spread over lines 5-7 (coverage records its first line).
    baseline.lines["m.py"][5] = {"t::reaches", "t::also"}

    assert baseline.covering("m.py", (3, 8)) == ["t::fast", "t::also", "t::reaches"]
    assert baseline.covering("m.py", (3, 8), (5, 5)) == ["t::also", "t::reaches", "t::fast"]
    # A mutated continuation line counts as its statement's first line.
    assert baseline.covering("m.py", (3, 8), (6, 7)) == ["t::also", "t::reaches", "t::fast"]
    # Only the order changes: the set is the function's covering tests.
    assert set(baseline.covering("m.py", (3, 8), (8, 8))) == set(durations)


def test_the_modules_own_test_file_comes_first_among_equals() -> None:
    # Same reach, same speed class: cuprum/_pipes.py's own tests (test_pipes.py)
    # run before another file's, whatever the node ids say.
    durations = {
        "cuprum/unittests/test_hop_ends.py::test_a": 0.01,
        "cuprum/unittests/test_pipes.py::test_z": 0.01,
        "cuprum/unittests/test_pipes_more.py::test_b": 0.01,
        "cuprum/unittests/test_slow.py::test_c": 0.3,
        "cuprum/unittests/test_pipes.py::test_slow": 0.3,
    }
    baseline = _baseline(durations, "cuprum/_pipes.py")
    assert baseline.covering("cuprum/_pipes.py", (1, 5)) == [
        "cuprum/unittests/test_pipes.py::test_z",
        "cuprum/unittests/test_pipes.py::test_slow",
        "cuprum/unittests/test_hop_ends.py::test_a",
        "cuprum/unittests/test_pipes_more.py::test_b",
        "cuprum/unittests/test_slow.py::test_c",
    ]


def _planned(ident: str, tests: list[str], *, every_killer: bool) -> Mutant:
    result = MutantResult(
        id=ident,
        origin="catalogue" if every_killer else "mutmut",
        file="m.py",
        function="f",
        line_start=3,
        line_end=3,
        original="a",
        replacement="b",
        diff="",
        status="not_run",
        tests=tests,
    )
    return Mutant(result, Activation(kind="env", name=ident), every_killer=every_killer)


def test_every_killer_jobs_start_first_then_the_longest() -> None:
    # Recording every killer costs what no baseline predicts (each failing
    # test may run to its own timeout), so those jobs go first: a long one
    # must not be what the last worker runs alone.
    durations = {"t::quick": 0.01, "t::slow": 3.0, "t::mid": 1.0}
    baseline = Baseline(True, [], durations, {}, {}, "")
    mutants = [
        _planned("first-slow", ["t::slow", "t::mid"], every_killer=False),
        _planned("all-quick", ["t::quick"], every_killer=True),
        _planned("first-mid", ["t::mid"], every_killer=False),
        _planned("all-mid", ["t::mid"], every_killer=True),
    ]
    config = kit_config(targets=("m.py",), jobs=4)
    plan = plan_jobs(mutants, baseline, config, matrix=False)
    assert [job["id"] for job in plan["jobs"]] == [
        "all-mid",
        "all-quick",
        "first-slow",
        "first-mid",
    ]
    assert [job["mode"] for job in plan["jobs"]] == ["all", "all", "first", "first"]
