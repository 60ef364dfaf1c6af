"""Proof the generated-operator gate is honest: the real engine on a temporary copy.

The copy's suite is cut down to two pathway tests, taken by name from the
real suite: one guards the hop's descriptor clean-up (no descriptor left open),
the other that a Rust hop completes. One run keeps both; the other deletes the
guard. The copy is a git repository and ``_close_pair`` (two ``os.close``
calls) is edited after its commit, so a review run (``run --since HEAD``)
executes only that function's generated mutants, through the same executor
session as every other mutant, to stay quick.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
COPIED = ("cuprum", "tests", "features", "mutation", "conftest.py", "setup.cfg", "pyproject.toml")
SUITE = "cuprum/unittests/test_cleanup_guard.py"
GUARD = "test_finished_pipelines_leave_no_descriptor_open"
SURVIVOR = "cuprum._pipeline_streams._close_pair__cleanup-dropped_1"
SLIM_SUITE = f"""\
from cuprum.unittests.test_pipeline_stream_backend_selection import (
    payload,
    rust_available,
    test_rust_with_usable_descriptors_is_not_a_fallback,
    {GUARD},
)
"""


@pytest.fixture
def per_test_limit() -> None:
    """Replace the suite's 30 s per-test alarm: these run the kit, bounded below."""


def _project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "project"
    root.mkdir()
    # No built extension in the copy: the stand-in pump serves the Rust hops.
    ignore = shutil.ignore_patterns("__pycache__", "results", "*.so")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    cfg = (root / "setup.cfg").read_text()
    head, _, tail = cfg.partition("[mutation]")
    tail = re.sub(r"\ntests =\n(    .*\n)+", f"\ntests =\n    {SUITE}\n", tail, count=1)
    # Two tests cannot cover whole modules: only the generated gate is on trial.
    tail = re.sub(r"\ncoverage_branch_min = \d+\n", "\ncoverage_branch_min = 0\n", tail, count=1)
    (root / "setup.cfg").write_text(head + "[mutation]" + tail)
    (root / SUITE).write_text(SLIM_SUITE)
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "base")):
        subprocess.run(
            ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )
    source = root / "cuprum" / "_pipeline_streams.py"
    marker = '    """Close both duplicated descriptors (used when the pump never starts)."""\n'
    assert source.read_text().count(marker) == 1
    source.write_text(source.read_text().replace(marker, marker + "    # under review\n"))
    return root


def _delete_guard(root: pathlib.Path) -> None:
    path = root / SUITE
    path.write_text(path.read_text().replace(f"    {GUARD},\n", ""))
    assert GUARD not in path.read_text()


def _review(root: pathlib.Path) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KIT_", "MUTANT_")) and k != "CUPRUM_EXPECT_NATIVE"
    }
    completed = subprocess.run(
        [sys.executable, "-m", "mutation", "run", "--since", "HEAD", "--skip-mutmut"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    review = root / "mutation" / "results" / "review.json"
    data = json.loads(review.read_text()) if review.exists() else {}
    return completed, data


def _generated(data: dict[str, object]) -> dict[str, dict[str, object]]:
    mutants = data.get("mutants", [])
    assert isinstance(mutants, list)
    return {m["id"]: m for m in mutants if m["origin"] == "generated" and m["status"] != "not_run"}


def _gate(data: dict[str, object]) -> dict[str, object]:
    gates = data.get("gates", [])
    assert isinstance(gates, list)
    found: list[dict[str, object]] = [
        g for g in gates if g["name"] == "generated score cuprum/_pipeline_streams.py"
    ]
    (gate,) = found
    return gate


def test_the_full_suite_kills_both_cleanup_mutants(tmp_path: pathlib.Path) -> None:
    completed, data = _review(_project(tmp_path))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    ran = _generated(data)
    assert sorted(ran) == [SURVIVOR, "cuprum._pipeline_streams._close_pair__cleanup-dropped_2"]
    for mutant in ran.values():
        assert mutant["status"] == "killed", mutant
        assert mutant["mutator"] == "cleanup-dropped"
        assert mutant["function"] == "_close_pair"
        assert mutant["killers"], mutant
    gate = _gate(data)
    assert gate["passed"], gate
    assert str(gate["detail"]).startswith("100.0% (2 killed + 0 timeout of 2 counted")


def test_deleting_the_cleanup_guard_fails_the_gate_and_names_the_survivor(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    _delete_guard(root)
    before = (root / "cuprum" / "_pipeline_streams.py").read_bytes()
    completed, data = _review(root)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    gate = _gate(data)
    assert not gate["passed"]
    assert str(gate["detail"]).startswith("50.0% (1 killed + 0 timeout of 2 counted")
    assert f"not killed: {SURVIVOR} (survived, line " in str(gate["detail"])
    survivor = _generated(data)[SURVIVOR]
    assert survivor["status"] == "survived"
    assert "-    os.close(reader_fd)" in str(survivor["diff"])
    # The review's report names the survivor, at its real place in the file.
    assert SURVIVOR in completed.stdout
    lines = before.decode().splitlines()
    line = lines.index("    # under review") + 2
    assert (survivor["line_start"], survivor["column_start"]) == (line, 5)
    # The mutants ran in scratch copies: the project's file is untouched.
    assert (root / "cuprum" / "_pipeline_streams.py").read_bytes() == before
