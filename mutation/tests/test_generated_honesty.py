"""Proof the generated-operator gate is honest: the real kit on a temporary copy.

The copy's suite is cut down to two pathway tests, taken by name from the
real suite: one guards the hop's descriptor clean-up (no descriptor left open),
the other that a Rust hop completes. One run keeps both; the other deletes the
guard. Only the mutants of ``_close_pair`` (two ``os.close`` calls) are run,
to stay quick.
"""

from __future__ import annotations

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
    (root / "setup.cfg").write_text(head + "[mutation]" + tail)
    (root / SUITE).write_text(SLIM_SUITE)
    return root


def _delete_guard(root: pathlib.Path) -> None:
    path = root / SUITE
    path.write_text(path.read_text().replace(f"    {GUARD},\n", ""))
    assert GUARD not in path.read_text()


def _generated(root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KIT_") and k != "CUPRUM_EXPECT_NATIVE"
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mutation.generated",
            "run",
            "--target",
            "cuprum/_pipeline_streams.py",
            "--function",
            "_close_pair",
            "--jobs",
            "2",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_full_suite_kills_both_cleanup_mutants(tmp_path: pathlib.Path) -> None:
    completed = _generated(_project(tmp_path))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "[PASS] generated score cuprum/_pipeline_streams.py: 100.0% (2 killed" in output


def test_deleting_the_cleanup_guard_fails_the_gate_and_names_the_survivor(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    _delete_guard(root)
    before = (root / "cuprum" / "_pipeline_streams.py").read_bytes()
    completed = _generated(root)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "[FAIL] generated score cuprum/_pipeline_streams.py: 50.0% (1 killed" in output
    assert f"not killed: {SURVIVOR} (survived, line " in output
    assert f"-- {SURVIVOR} [survived]" in output
    assert "-    os.close(reader_fd)" in output
    # The mutants ran in scratch copies: the project's file is untouched.
    assert (root / "cuprum" / "_pipeline_streams.py").read_bytes() == before
