"""The score ratchet against a committed baseline."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from mutation.ratchet import load_baseline, ratchet_verdicts, update_baseline
from mutation.results import Results
from mutation.tests.factories import BACKEND, STREAMS, make_results, write_project

COMMITTED = pathlib.Path(__file__).resolve().parents[1] / "baseline.json"


@pytest.fixture
def results(tmp_path: pathlib.Path) -> Results:
    made = make_results(write_project(tmp_path))
    made.modules[0].score = 0.95  # above its 0.9 threshold
    return made


def verdicts(
    results: Results, baseline: dict[str, float], tolerance: float = 0.0
) -> dict[str, tuple[bool, str]]:
    return {v.name: (v.passed, v.detail) for v in ratchet_verdicts(results, baseline, tolerance)}


def test_drop_below_baseline_fails_above_threshold(results: Results) -> None:
    found = verdicts(results, {BACKEND: 0.97, STREAMS: 0.95})
    passed, detail = found[f"ratchet:{BACKEND}"]
    assert not passed
    assert "below baseline 97.00%" in detail
    assert found[f"ratchet:{STREAMS}"][0]


def test_equal_or_higher_passes(results: Results) -> None:
    found = verdicts(results, {BACKEND: 0.95, STREAMS: 0.90})
    assert all(passed for passed, _ in found.values())
    assert list(found) == [f"ratchet:{BACKEND}", f"ratchet:{STREAMS}"]


def test_float_noise_is_not_a_drop(results: Results) -> None:
    results.modules[0].score = 0.97 - 1e-12
    assert verdicts(results, {BACKEND: 0.97})[f"ratchet:{BACKEND}"][0]


def test_tolerance(results: Results) -> None:
    assert verdicts(results, {BACKEND: 0.97}, 0.03)[f"ratchet:{BACKEND}"][0]
    assert not verdicts(results, {BACKEND: 0.97}, 0.01)[f"ratchet:{BACKEND}"][0]
    with pytest.raises(ValueError, match="tolerance"):
        ratchet_verdicts(results, {}, -0.1)


def test_module_missing_from_baseline_passes_with_note(results: Results) -> None:
    passed, detail = verdicts(results, {})[f"ratchet:{STREAMS}"]
    assert passed
    assert "not in the baseline" in detail


def test_update_and_load_round_trip(results: Results, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({BACKEND: 0.99, "cuprum/old.py": 1.0}), "utf-8")
    written = update_baseline(results, path)
    assert written == {BACKEND: 0.95, STREAMS: 0.95}
    assert load_baseline(path) == written  # lowered too, old module dropped
    assert all(v.passed for v in ratchet_verdicts(results, load_baseline(path)))


def test_update_refuses_review_runs(results: Results, tmp_path: pathlib.Path) -> None:
    results.selection = [f"{BACKEND}:select_backend"]
    with pytest.raises(ValueError, match="--since"):
        update_baseline(results, tmp_path / "baseline.json")
    assert not (tmp_path / "baseline.json").exists()


@pytest.mark.parametrize(
    "text",
    ["[]", '{"a.py": "0.9"}', '{"a.py": 1.5}', '{"a.py": true}', "{", ""],
)
def test_load_rejects_bad_baselines(tmp_path: pathlib.Path, text: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"baseline|score"):
        load_baseline(path)


def test_load_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_baseline(tmp_path / "absent.json")


def test_committed_baseline_loads() -> None:
    baseline = load_baseline(COMMITTED)
    assert all(0.0 <= score <= 1.0 for score in baseline.values())


def _generated(results: Results, statuses: list[str]) -> None:
    """Add generated mutants of the streams module with these statuses."""
    template = dataclasses.replace(results.mutants[0], file=STREAMS, function="pump")
    for index, status in enumerate(statuses):
        results.mutants.append(
            dataclasses.replace(
                template,
                id=f"cuprum._pipeline_streams.pump__call-removed_{index + 1}",
                origin="generated",
                status=status,  # type: ignore[arg-type]
                must_kill=False,
                killers=[],
                tests=[],
            )
        )


def test_generated_scores_are_ratcheted_under_their_own_key(
    results: Results, tmp_path: pathlib.Path
) -> None:
    _generated(results, ["killed", "killed", "killed", "survived"])
    key = f"generated:{STREAMS}"
    recorded = update_baseline(results, tmp_path / "baseline.json")
    assert recorded[key] == 0.75
    assert load_baseline(tmp_path / "baseline.json")[key] == 0.75
    passed, detail = verdicts(results, {key: 1.0})[f"ratchet:{key}"]
    assert not passed
    assert "score 75.00% below baseline 100.00%" in detail
    assert verdicts(results, {key: 0.75})[f"ratchet:{key}"][0]
    # mutmut's score of the same module keeps its own key.
    assert recorded[STREAMS] == round(results.modules[1].score, 4)
