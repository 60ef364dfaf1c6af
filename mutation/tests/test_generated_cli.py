"""``python -m mutation.generated``: listing, showing and its refusals (no mutant runs)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def _cli(root: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    return subprocess.run(
        [sys.executable, "-m", "mutation.generated", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "results", "*.so")
    for name in ("cuprum", "tests", "features", "mutation"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    for name in ("conftest.py", "setup.cfg", "pyproject.toml"):
        shutil.copy2(REPO / name, root / name)
    return root


def test_list_prints_each_mutant_with_its_location() -> None:
    completed = _cli(
        REPO, "list", "--target", "cuprum/_pipeline_streams.py", "--function", "_close_pair"
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cuprum._pipeline_streams._close_pair__cleanup-dropped_1  ")
    assert "cuprum/_pipeline_streams.py:" in lines[0]
    assert lines[0].endswith("os.close(reader_fd)")
    assert "2 generated mutants" in completed.stderr


def test_show_prints_the_diff() -> None:
    completed = _cli(REPO, "show", "cuprum._backend._resolve_backend__raise-to-pass_1")
    assert completed.returncode == 0, completed.stderr
    assert "-        raise _forced_rust_error(found)\n+        pass\n" in completed.stdout


def test_unknown_targets_mutants_and_functions_are_usage_errors() -> None:
    target = _cli(REPO, "list", "--target", "cuprum/_nothing.py")
    assert target.returncode == 2
    assert "'cuprum/_nothing.py' is not a mutation target" in target.stderr
    mutant = _cli(REPO, "show", "cuprum._backend.nope__call-removed_1")
    assert mutant.returncode == 2
    assert "no generated mutant 'cuprum._backend.nope__call-removed_1'" in mutant.stderr
    function = _cli(REPO, "list", "--function", "nope")
    assert function.returncode == 2
    assert "no generated mutant in function(s) nope" in function.stderr


def test_a_stale_excuse_stops_the_run_before_any_test_runs(tmp_path: pathlib.Path) -> None:
    root = _copy(tmp_path)
    excused = root / "mutation" / "excused.toml"
    head, table, tail = excused.read_text().partition("[[excused_generated]]")
    stale = re.sub(r'diff_contains = ".*"', 'diff_contains = "-    no such line"', tail, count=1)
    assert table
    assert stale != tail
    excused.write_text(head + table + stale)
    completed = _cli(root, "run")
    assert completed.returncode == 2
    assert "no longer has the diff it was excused for" in completed.stderr
    assert "baseline" not in completed.stderr
    assert not (root / "mutation" / "results").exists()
