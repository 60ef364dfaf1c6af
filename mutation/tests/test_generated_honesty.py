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

import pathlib

import pytest

from mutation.tests.slim_copy import gate, mark_under_review, ran, review, slim_project

SUITE = "cuprum/unittests/test_cleanup_guard.py"
GUARD = "test_finished_pipelines_leave_no_descriptor_open"
SURVIVOR = "cuprum._pipeline_streams._close_pair__cleanup-dropped_1"
GATE = "generated score cuprum/_pipeline_streams.py"
SLIM_SUITE = f"""\
from cuprum.unittests.test_pipeline_stream_backend_selection import (
    payload,
    rust_available,
    test_rust_with_usable_descriptors_is_not_a_fallback,
    {GUARD},
)
"""
MARKER = '    """Close both duplicated descriptors (used when the pump never starts)."""\n'


@pytest.fixture
def per_test_limit() -> None:
    """Replace the suite's 30 s per-test alarm: these run the kit, bounded below."""


def _project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = slim_project(tmp_path, SUITE, SLIM_SUITE)
    mark_under_review(root, "cuprum/_pipeline_streams.py", MARKER)
    return root


def _delete_guard(root: pathlib.Path) -> None:
    path = root / SUITE
    path.write_text(path.read_text().replace(f"    {GUARD},\n", ""))
    assert GUARD not in path.read_text()


def test_the_full_suite_kills_both_cleanup_mutants(tmp_path: pathlib.Path) -> None:
    completed, data = review(_project(tmp_path))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    executed = ran(data, "generated")
    assert sorted(executed) == [SURVIVOR, "cuprum._pipeline_streams._close_pair__cleanup-dropped_2"]
    for mutant in executed.values():
        assert mutant["status"] == "killed", mutant
        assert mutant["mutator"] == "cleanup-dropped"
        assert mutant["function"] == "_close_pair"
        assert mutant["killers"], mutant
    verdict = gate(data, GATE)
    assert verdict["passed"], verdict
    assert str(verdict["detail"]).startswith("100.0% (2 killed + 0 timeout of 2 counted")


def test_deleting_the_cleanup_guard_fails_the_gate_and_names_the_survivor(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    _delete_guard(root)
    before = (root / "cuprum" / "_pipeline_streams.py").read_bytes()
    completed, data = review(root)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    verdict = gate(data, GATE)
    assert not verdict["passed"]
    assert str(verdict["detail"]).startswith("50.0% (1 killed + 0 timeout of 2 counted")
    assert f"not killed: {SURVIVOR} (survived, line " in str(verdict["detail"])
    survivor = ran(data, "generated")[SURVIVOR]
    assert survivor["status"] == "survived"
    assert "-    os.close(reader_fd)" in str(survivor["diff"])
    # The review's report names the survivor, at its real place in the file.
    assert SURVIVOR in completed.stdout
    lines = before.decode().splitlines()
    line = lines.index("    # under review") + 2
    assert (survivor["line_start"], survivor["column_start"]) == (line, 5)
    # The mutants ran in scratch copies: the project's file is untouched.
    assert (root / "cuprum" / "_pipeline_streams.py").read_bytes() == before
