"""Merging the Rust phase's shards: real cargo-mutants runs, sharded and not.

The ring crate (:mod:`mutation.tests.ring_crate`) with a weakened test has
a survivor, so the gates fail: the phase runs once unsharded and once as two
shards in a second copy, and the merge must give the unsharded verdicts,
killers, gates, summary and exit code. The refusals use copies of the real
shard files.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import types
import typing as typ
from collections.abc import Callable, Iterator

import pytest

from mutation.report_rust import load_rust
from mutation.results import InvalidResultsError, Results, load_results
from mutation.rust_cli import main
from mutation.rust_gates import position_free
from mutation.shards import load_shards
from mutation.tests.ring_crate import REPO, RING_TESTS, make_ring, require_tools, run_phase

LIMIT_SECONDS = 600
SHARDS = ("results/rust-shard-1-of-2.json", "results/rust-shard-2-of-2.json")
WEAK_TESTS = RING_TESTS.replace("    assert!(is_ready());\n", "")

Json = dict[str, typ.Any]


def _too_long(signum: int, frame: types.FrameType | None) -> None:
    del signum, frame
    msg = f"a Rust merge test exceeded {LIMIT_SECONDS} s"
    raise TimeoutError(msg)


@pytest.fixture(autouse=True)
def per_test_limit() -> Iterator[None]:
    """Replace the suite's 30 s bound: one of these tests runs the Rust phase."""
    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Runs(typ.NamedTuple):
    """The unsharded project and its output, and the sharded project."""

    unsharded: pathlib.Path
    unsharded_run: subprocess.CompletedProcess[str]
    sharded: pathlib.Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    require_tools()
    whole = make_ring(tmp_path_factory.mktemp("unsharded"), WEAK_TESTS)
    unsharded = run_phase(whole)
    assert unsharded.returncode == 1, unsharded.stdout + unsharded.stderr
    split = make_ring(tmp_path_factory.mktemp("sharded"), WEAK_TESTS)
    for shard in ("1/2", "2/2"):
        part = run_phase(split, "--shard", shard)
        assert part.returncode in {0, 1}, part.stdout + part.stderr
    return Runs(whole, unsharded, split)


@pytest.fixture
def sharded(runs: Runs, tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of the sharded project (each test merges or edits its own)."""
    root = tmp_path / "ring-project"
    shutil.copytree(runs.sharded, root, ignore=shutil.ignore_patterns("target", ".mutation-work"))
    return root


def _merge(root: pathlib.Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "mutation.rust_phase", "merge", *files],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _verdicts(path: pathlib.Path) -> dict[str, tuple[str, list[str]]]:
    results = load_results(path)
    return {m.id: (m.status, [k.test for k in m.killers]) for m in results.mutants}


def _counted(results: Results) -> int:
    """The ``N`` of the Rust score gate's ``killed of N counted``."""
    detail = next(g.detail for g in results.gates if g.name.startswith("rust score"))
    return int(detail.split(" killed of ", 1)[1].split(" ", 1)[0])


def _after(output: str, header: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    return lines[start + 1 :]


def test_merged_shards_give_the_unsharded_verdicts_gates_and_summary(
    runs: Runs, sharded: pathlib.Path
) -> None:
    counted = 0
    for shard in SHARDS:
        # Each shard really judged only part of the mutants, and counts only those.
        assert "not_run" in {status for status, _ in _verdicts(sharded / shard).values()}
        counted += _counted(load_results(sharded / shard))
    merged = _merge(sharded, *SHARDS)
    assert merged.returncode == runs.unsharded_run.returncode == 1, merged.stdout + merged.stderr
    whole = sharded / "results/rust.json"
    expected = _verdicts(runs.unsharded / "results/rust.json")
    assert _verdicts(whole) == expected
    assert "survived" in {status for status, _ in expected.values()}
    assert ["ring::chunks_are_clamped"] in [killers for _, killers in expected.values()]
    ours, theirs = load_results(whole), load_results(runs.unsharded / "results/rust.json")
    assert [(g.name, g.passed, g.detail) for g in ours.gates] == [
        (g.name, g.passed, g.detail) for g in theirs.gates
    ]
    assert ours.modules == theirs.modules
    assert counted == _counted(ours) == 3
    assert (ours.shard, ours.selection) == ("", [])
    # A Rust shard is not a Python one: `python -m mutation merge` refuses it.
    with pytest.raises(InvalidResultsError, match="is not a shard's partial result"):
        load_shards([sharded / SHARDS[0]])
    assert _after(merged.stdout, "rust phase: merged 2 shards") == _after(
        runs.unsharded_run.stdout, "rust phase: 4 run"
    )
    assert "[FAIL] rust survivors" in merged.stdout
    # The reports take the merged file as current.
    outcome = load_rust(sharded)
    assert outcome.results is not None
    assert outcome.stale == []


def test_an_unsharded_run_after_the_merge_reuses_every_verdict(sharded: pathlib.Path) -> None:
    assert _merge(sharded, *SHARDS).returncode == 1
    again = run_phase(sharded)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "re-used (nothing changed)" in again.stdout
    assert "baseline" not in again.stdout


def _edit(path: pathlib.Path, change: Callable[[Json], None]) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(json.dumps(raw), encoding="utf-8")


def _other_digest(raw: Json) -> None:
    raw["inputs_digest"] = "0" * 64


def _other_function(raw: Json) -> None:
    raw["inputs"]["rust-functions"]["ring/src/lib.rs::is_ready"] = "f" * 64


def _of_three(raw: Json) -> None:
    raw["selection"] = ["shard 2/3"]


def _garbage(path: pathlib.Path) -> None:
    path.write_text("{ not json", encoding="utf-8")


# A shard from another tree differs from these only in its recorded inputs:
# editing a copy's record is what such a shard looks like to the merge,
# without two more cargo runs on an edited crate.
@pytest.mark.parametrize(
    ("files", "edit", "expected"),
    [
        (SHARDS, _other_digest, "computed from different inputs (the inputs digest"),
        (SHARDS, _other_function, "(functions ring/src/lib.rs::is_ready differ)"),
        (SHARDS, _of_three, "is shard 2/3 but results/rust-shard-1-of-2.json is one of 2"),
        (SHARDS[:1], None, "shard(s) 2/2 missing"),
        ((SHARDS[0], SHARDS[0]), None, "shard 1/2 given twice"),
    ],
    ids=["inputs-digest", "function-fingerprint", "shard-count", "missing", "duplicate"],
)
def test_shards_that_do_not_belong_together_are_refused(
    sharded: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: tuple[str, ...],
    edit: Callable[[Json], None] | None,
    expected: str,
) -> None:
    if edit is not None:
        _edit(sharded / files[-1], edit)
    monkeypatch.chdir(sharded)
    assert main(["merge", *files]) == 3
    out = capsys.readouterr().out
    assert out.startswith("rust phase: error: refusing to merge: "), out
    assert expected in out
    assert files[-1] in out
    assert len(out.splitlines()) == 1
    assert not (sharded / "results/rust.json").exists()


def test_invalid_or_unsharded_files_are_refused(
    sharded: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(sharded)
    _garbage(sharded / SHARDS[1])
    assert main(["merge", *SHARDS]) == 3
    assert f"{SHARDS[1]}: not a valid result file" in capsys.readouterr().out
    unsharded = sharded / "results/whole.json"
    _edit(sharded / SHARDS[0], lambda raw: raw.update(selection=[]))
    shutil.copy(sharded / SHARDS[0], unsharded)
    assert main(["merge", str(unsharded)]) == 3
    assert "whole.json is not a Rust shard's result" in capsys.readouterr().out
    python = sharded / "results/python.json"
    shutil.copy(sharded / SHARDS[0], python)
    _edit(python, lambda raw: raw["mutants"][0].update(language="python"))
    assert main(["merge", str(python)]) == 3
    assert "python.json is not a Rust phase result" in capsys.readouterr().out
    assert main(["merge", "results/nowhere.json"]) == 3
    assert "no shard result file at results/nowhere.json" in capsys.readouterr().out
    assert not (sharded / "results/rust.json").exists()


def _survivor(root: pathlib.Path) -> tuple[str, Json]:
    for shard in SHARDS:
        raw = json.loads((root / shard).read_text(encoding="utf-8"))
        for mutant in raw["mutants"]:
            if mutant["status"] == "survived":
                return shard, mutant
    raise AssertionError("the weakened ring tests leave one survivor")


def test_the_merge_applies_the_current_excuses_and_refuses_a_vanished_one(
    sharded: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(sharded)
    shard, survivor = _survivor(sharded)
    excuses = sharded / "mutation" / "excused_rust.toml"
    excuses.parent.mkdir()
    excuses.write_text(
        "[[excused]]\n"
        f"mutant = {json.dumps(position_free(survivor['id']))}\n"
        'reason = "the ring is always ready (a test of the merge)"\n'
        'diff_contains = "false"\n',
        encoding="utf-8",
    )
    assert main(["merge", *SHARDS]) == 0, capsys.readouterr().out
    assert "[pass] rust survivors" in capsys.readouterr().out
    statuses = {m.id: m.status for m in load_results(sharded / "results/rust.json").mutants}
    assert statuses[survivor["id"]] == "excused"
    # What a shard run under that excuse records; the excuse is then removed.
    _edit(
        sharded / shard,
        lambda raw: next(m for m in raw["mutants"] if m["id"] == survivor["id"]).update(
            status="excused"
        ),
    )
    excuses.unlink()
    assert main(["merge", *SHARDS]) == 3
    assert "no longer excuses it; re-run the shards" in capsys.readouterr().out
