"""The baseline split by test file across processes, and merged back whole."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from mutation.baseline import function_percent, run_baseline
from mutation.baseline_shards import SHARD_MIN_SECONDS, file_hints, partition, shard_count
from mutation.config import load_config
from mutation.processes import interruptible
from mutation.tests.fixture_project import make_project, replace_in

# Each test records the pytest process it ran in, so the split is observable.
SECOND_FILE = """\
import os, pathlib
from fixturepkg.calc import clamp, describe


def _note(name):
    pathlib.Path(os.environ["PID_DIR"], f"{name}-{os.getpid()}").touch()


def test_clamp_high():
    _note("other")
    assert clamp(50, 0, 10) == 10


def test_describe_many():
    _note("other")
    assert describe(5) == "many"
"""


def test_partition_balances_the_slowest_files_first() -> None:
    hints = {"a.py": 10.0, "b.py": 6.0, "c.py": 5.0, "d.py": 1.0}
    shards = partition(["d.py", "c.py", "b.py", "a.py"], hints, 2)
    assert sorted(map(sorted, shards)) == [["a.py", "d.py"], ["b.py", "c.py"]]


def test_partition_keeps_every_file_once_and_never_makes_an_empty_shard() -> None:
    files = [f"t{i}.py" for i in range(5)]
    for workers in (1, 2, 3, 5, 9):
        shards = partition(files, {}, workers)
        assert len(shards) == min(workers, len(files))
        assert all(shards)
        assert sorted(f for shard in shards for f in shard) == files
    assert partition([], {}, 4) == []


def test_partition_without_hints_is_the_same_every_time() -> None:
    files = ["x.py", "y.py", "z.py", "w.py"]
    one = [sorted(shard) for shard in partition(files, {}, 2)]
    assert one == [sorted(shard) for shard in partition(list(reversed(files)), {}, 2)]
    assert one == [["w.py", "y.py"], ["x.py", "z.py"]]


def test_a_process_is_started_only_for_enough_known_work() -> None:
    # 145 quick tests of a review (15 s in all) do not pay for eight
    # processes' start-up; a whole baseline's minutes do.
    quick = {f"t.py::q{i}": 0.1 for i in range(145)}
    few = shard_count(list(quick), quick, 8)
    assert few == int(sum(quick.values()) // SHARD_MIN_SECONDS)
    assert 1 <= few < 8
    slow = {f"s{i}.py": 30.0 for i in range(22)}
    assert shard_count(list(slow), slow, 8) == 8
    assert shard_count(["a.py::t"], {"a.py::t": 0.01}, 8) == 1


def test_an_unknown_test_weighs_a_process_of_its_own() -> None:
    # A first run has no hints: every file may be slow, so jobs decides.
    files = [f"f{i}.py" for i in range(5)]
    assert shard_count(files, {}, 8) == 5
    assert shard_count(files, {}, 3) == 3
    assert shard_count([], {}, 4) == 0


def test_hints_sum_each_files_tests_from_the_last_results(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "latest.json"
    results.write_text(
        json.dumps(
            {
                "tests": [
                    {"test": "a.py::x", "file": "a.py", "duration": 1.5},
                    {"test": "a.py::y", "file": "a.py", "duration": 0.5},
                    {"test": "b.py::z", "file": "b.py", "duration": 0.25},
                ]
            }
        )
    )
    assert file_hints(results) == {"a.py": 2.0, "b.py": 0.25}
    assert file_hints(tmp_path / "missing.json") == {}
    results.write_text("{not json")
    assert file_hints(results) == {}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_split_baseline_equals_one_process(
    tmp_path: pathlib.Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "p")
    (root / "fixture_tests" / "test_other.py").write_text(SECOND_FILE)
    replace_in(
        root / "fixture_tests" / "test_calc.py",
        "def test_add():\n",
        "def test_add():\n    import os, pathlib\n"
        '    pathlib.Path(os.environ["PID_DIR"], f"calc-{os.getpid()}").touch()\n',
    )
    replace_in(
        root / "setup.cfg",
        "tests =\n    fixture_tests/test_calc.py\n",
        "tests =\n    fixture_tests/test_calc.py\n    fixture_tests/test_other.py\n",
    )
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("PID_DIR", str(pids))
    config = dataclasses.replace(load_config(root), jobs=jobs)
    workspace = tmp_path / "copy"
    shutil.copytree(root, workspace)

    with interruptible():
        baseline = run_baseline(workspace, config)

    assert baseline.passed, baseline.output
    assert set(baseline.durations) == {
        *(f"fixture_tests/test_calc.py::{t}" for t in ("test_add", "test_add_negative")),
        *(f"fixture_tests/test_calc.py::{t}" for t in ("test_clamp_low", "test_clamp_inside")),
        "fixture_tests/test_calc.py::test_describe_zero",
        "fixture_tests/test_calc.py::test_spin",
        "fixture_tests/test_other.py::test_clamp_high",
        "fixture_tests/test_other.py::test_describe_many",
    }
    # Lines covered by each file's tests survive the merge, contexts and all.
    calc = baseline.lines["fixturepkg/calc.py"]
    high_line = 9  # "return high": only test_other reaches it
    assert calc[high_line] == {"fixture_tests/test_other.py::test_clamp_high"}
    assert "fixture_tests/test_calc.py::test_add" in calc[2]
    assert baseline.coverage["fixturepkg/calc.py"] > 0
    # One process per shard: two files on two workers ran in two pytest processes.
    ran_in = {name.split("-")[1] for name in (p.name for p in pids.iterdir())}
    assert len(ran_in) == jobs
    # Nothing of the shards is left in the workspace but the merged coverage.
    leftovers = sorted(p.name for p in workspace.glob(".kit-*"))
    assert leftovers == [".kit-coverage", ".kit-coverage.json"]


def test_a_failing_test_in_any_shard_fails_the_baseline(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "fixture_tests" / "test_other.py").write_text("def test_broken():\n    assert 1 == 2\n")
    replace_in(
        root / "setup.cfg",
        "tests =\n    fixture_tests/test_calc.py\n",
        "tests =\n    fixture_tests/test_calc.py\n    fixture_tests/test_other.py\n",
    )
    config = dataclasses.replace(load_config(root), jobs=2)

    with interruptible():
        baseline = run_baseline(root, config)

    assert not baseline.passed
    assert [k.test for k in baseline.failures] == ["fixture_tests/test_other.py::test_broken"]
    assert "fixture_tests/test_calc.py::test_add" in baseline.durations


def test_a_functions_coverage_is_what_coverage_py_reports_for_it(tmp_path: pathlib.Path) -> None:
    # A review reports only its changed files; the figure must be the one
    # coverage.py's own whole report gives that function.
    root = make_project(tmp_path / "p")
    config = load_config(root)
    workspace = tmp_path / "copy"
    shutil.copytree(root, workspace)

    with interruptible():
        baseline = run_baseline(workspace, config, functions={"fixturepkg/calc.py": {"clamp"}})

    assert baseline.passed, baseline.output
    whole = tmp_path / "whole.json"
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-q", "-o", str(whole)],
        cwd=workspace,
        env={**os.environ, "COVERAGE_FILE": str(workspace / ".kit-coverage")},
        check=True,
    )
    report = json.loads(whole.read_text(encoding="utf-8"))["files"]["fixturepkg/calc.py"]
    expected = function_percent(report, "clamp")
    assert expected > 0
    assert baseline.coverage == {"fixturepkg/calc.py:clamp": expected}
