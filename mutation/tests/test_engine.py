"""The engine on the fixture project: hangs, incremental runs, shards, interrupts.

Each test runs the real kit (real mutmut generation, real pytest workers)
on :mod:`mutation.tests.fixture_project` in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from mutation.report_rust import NOT_RUN_NOTE
from mutation.tests.fixture_project import kit, kit_env, make_project, replace_in

RESULTS = pathlib.Path("kit/results/latest.json")


@pytest.fixture(autouse=True)
def per_test_limit() -> None:
    """Replace the suite's 30 s per-test alarm: these tests run the kit several
    times, and each run is bounded by its own subprocess timeout instead."""


def _verdicts(path: pathlib.Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    data = json.loads(path.read_text())
    return {m["id"]: (m["status"], tuple(k["test"] for k in m["killers"])) for m in data["mutants"]}


def _tree(root: pathlib.Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and "results" not in p.parts
    }


def _processes_in(directory: pathlib.Path) -> list[int]:
    """Return the pids whose working directory lies inside ``directory``."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(directory)):
            found.append(int(entry.name))
    return found


def test_a_hang_is_a_timeout_cut_at_its_limit_and_never_a_kill(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p", hanging=True)
    started = time.monotonic()
    completed = kit(root, "run", "--force")
    elapsed = time.monotonic() - started
    assert completed.returncode == 1, completed.stderr
    verdicts = _verdicts(root / RESULTS)
    # The catalogue's endless loop and mutmut's two are cut, not killed.
    assert verdicts["spin-forever"] == ("timeout", ())
    assert verdicts["fixturepkg.calc.x_spin__mutmut_8"][0] == "timeout"
    assert "[FAIL] must-kill catalogue: not killed: spin-forever (timeout)" in completed.stdout
    data = json.loads((root / RESULTS).read_text())
    hung = next(m for m in data["mutants"] if m["id"] == "spin-forever")
    assert "fixture_tests/test_calc.py::test_spin" in hung["detail"]
    # Three hangs at about 2 s each (a loaded machine adds time, not minutes).
    assert elapsed < 120


def test_incremental_verdicts_equal_a_forced_run(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    assert kit(root, "run", "--force").returncode in (0, 1)
    calc = root / "fixturepkg" / "calc.py"
    replace_in(calc, "    if n == 0:\n", "    if n == 0:  # reviewed\n")
    incremental = kit(root, "run")
    assert incremental.returncode in (0, 1), incremental.stderr
    # Only describe's mutants ran again; every other verdict was re-used.
    assert "re-used unchanged from the last run" in incremental.stderr
    reused = int(incremental.stderr.split(" re-used unchanged")[0].rsplit(" ", 1)[-1])
    data = json.loads((root / RESULTS).read_text())
    describe = [m for m in data["mutants"] if m["function"] == "describe"]
    assert describe
    assert reused == len(data["mutants"]) - len(describe)
    incremental_verdicts = _verdicts(root / RESULTS)
    forced = kit(root, "run", "--force")
    assert "0 re-used" in forced.stderr
    assert _verdicts(root / RESULTS) == incremental_verdicts


def test_unchanged_rerun_reuses_everything(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    first = kit(root, "run", "--force")
    again = kit(root, "run")
    assert again.returncode == first.returncode
    assert "inputs unchanged since the last run" in again.stderr


def test_shards_merge_to_the_unsharded_verdicts(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    whole = kit(root, "run", "--force")
    unsharded = _verdicts(root / RESULTS)
    (root / RESULTS).unlink()
    for k in ("1/2", "2/2"):
        completed = kit(root, "run", "--force", "--shard", k)
        assert completed.returncode == 0, completed.stderr
    parts = sorted(str(p) for p in (root / "kit" / "results").glob("shard-*-of-2.json"))
    assert len(parts) == 2
    assert _verdicts(pathlib.Path(parts[0])).keys().isdisjoint(_verdicts(pathlib.Path(parts[1])))
    merged = kit(root, "merge", *parts, "--out", "kit/report")
    assert merged.returncode == whole.returncode, merged.stderr
    assert _verdicts(root / RESULTS) == unsharded
    summary = (root / "kit" / "report" / "summary.md").read_text(encoding="utf-8")
    # No Rust phase in this project: the merged reports say so.
    assert NOT_RUN_NOTE in summary
    assert NOT_RUN_NOTE in merged.stdout


def test_merge_refuses_shards_of_different_inputs(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    assert kit(root, "run", "--force", "--shard", "1/2").returncode == 0
    replace_in(
        root / "fixturepkg" / "calc.py", "    return value\n", "    return value  # edited\n"
    )
    assert kit(root, "run", "--force", "--shard", "2/2").returncode == 0
    parts = sorted(str(p) for p in (root / "kit" / "results").glob("shard-*-of-2.json"))
    merged = kit(root, "merge", *parts)
    assert merged.returncode == 3
    assert "different inputs" in merged.stderr
    missing = kit(root, "merge", parts[0])
    assert missing.returncode == 3
    assert "missing shard(s) 2/2" in missing.stderr
    assert kit(root, "run", "--shard", "3/2").returncode == 2


def _wait_for(condition: object, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail("the kit never reached the phase to interrupt")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["baseline", "execute"])
def test_interrupt_exits_130_within_seconds_and_leaves_nothing(
    tmp_path: pathlib.Path, signum: int, phase: str
) -> None:
    root = make_project(tmp_path / "p", hanging=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = _tree(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "mutation", "run", "--force"],
        cwd=root,
        env=kit_env(TMPDIR=str(scratch)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if phase == "baseline":
        _wait_for(
            lambda: (
                any(scratch.rglob(".kit-baseline.json")) or any(scratch.rglob("_kit_session.py"))
            )
        )
    else:
        # The executor has started a worker: the hanging mutants keep it busy.
        _wait_for(lambda: any(p.stat().st_size for p in scratch.rglob(".kit-executed.jsonl")))
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    took = time.monotonic() - sent
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    # Unloaded this is 0.1-0.7 s; CI's loaded two cores once took 3.2 s.
    # Ignoring the signal would run the hanging mutants for minutes, so a
    # 10 s bound still tells the two apart without flaking under load.
    assert took < 10.0, f"exit took {took:.2f} s"
    assert _processes_in(scratch) == []
    assert list(scratch.iterdir()) == []
    assert _tree(root) == before
