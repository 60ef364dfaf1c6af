"""Progress lines while mutants execute (mutation/progress.py)."""

from __future__ import annotations

import pathlib
import threading
import time

from mutation.progress import ExecutionProgress

# Generous: the ticker must have spoken well before this on a loaded machine.
_WAIT_SECONDS = 30.0


def _wait_for(lines: list[str], wanted: str) -> bool:
    deadline = time.monotonic() + _WAIT_SECONDS
    while time.monotonic() < deadline:
        if any(wanted in line for line in list(lines)):
            return True
        time.sleep(0.01)
    return False


def test_counts_record_lines_and_mutants_finished_elsewhere(tmp_path: pathlib.Path) -> None:
    records = tmp_path / "records.jsonl"
    lines: list[str] = []

    with ExecutionProgress(lines.append, total=7, interval=0.02) as progress:
        progress.watch(records)  # not created yet: counts nothing, no error
        assert _wait_for(lines, "0/7 mutants executed")
        records.write_text('{"id": "a"}\n{"id": "b"}\n')
        progress.add(3)
        assert _wait_for(lines, "5/7 mutants executed")
        progress.unwatch(records, counted=2)
        records.unlink()  # a file session's copy is removed afterwards
        assert progress.done() == 5


def test_stops_speaking_when_the_execution_ends(tmp_path: pathlib.Path) -> None:
    lines: list[str] = []

    with ExecutionProgress(lines.append, total=1, interval=0.01) as progress:
        assert _wait_for(lines, "0/1")
    settled = len(lines)
    time.sleep(0.1)

    assert len(lines) == settled
    assert not any(t.name == "kit-progress" and t.is_alive() for t in threading.enumerate())
    assert progress.done() == 0


def test_a_short_execution_prints_nothing() -> None:
    lines: list[str] = []

    with ExecutionProgress(lines.append, total=3, interval=60.0):
        pass

    assert lines == []
