"""Review runs on the fixture project: the narrowed baseline through the real engine.

After a full run, a review (``run --since HEAD``) runs only the tests that
covered the changed functions; its verdicts must equal those of a review
whose baseline runs the whole suite, and a covering test the change breaks
must still stop it.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from mutation.tests.fixture_project import commit_all, kit, make_project, replace_in

REVIEW = pathlib.Path("kit/results/review.json")


@pytest.fixture(autouse=True)
def per_test_limit() -> None:
    """Replace the suite's 30 s per-test alarm: each test runs the kit several
    times, each run bounded by its own subprocess timeout."""


def _committed(tmp_path: pathlib.Path) -> pathlib.Path:
    root = make_project(tmp_path / "p")
    commit_all(root)
    return root


def _verdicts(root: pathlib.Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    data = json.loads((root / REVIEW).read_text())
    return {
        m["id"]: (m["status"], tuple(k["test"] for k in m["killers"]))
        for m in data["mutants"]
        if m["status"] != "not_run"
    }


def test_a_narrowed_review_agrees_with_a_whole_baseline_review(tmp_path: pathlib.Path) -> None:
    root = _committed(tmp_path)
    assert kit(root, "run", "--force").returncode in (0, 1)
    replace_in(root / "fixturepkg" / "calc.py", "    if n == 0:\n", "    if n == 0:  # reviewed\n")
    narrowed = kit(root, "run", "--since", "HEAD")
    assert narrowed.returncode in (0, 1), narrowed.stderr
    assert (
        "review baseline: 1 test covering the changed functions in the last full run"
        in narrowed.stderr
    )
    assert "baseline passed (1 tests)" in narrowed.stderr
    data = json.loads((root / REVIEW).read_text())
    assert list(data["coverage"]) == ["fixturepkg/calc.py:describe"]
    narrowed_verdicts = _verdicts(root)
    assert narrowed_verdicts
    ran = {m["function"] for m in data["mutants"] if m["status"] != "not_run"}
    assert ran == {"describe"}
    whole = kit(root, "run", "--since", "HEAD", "--force")
    assert whole.returncode == narrowed.returncode, whole.stderr
    assert "review baseline: the whole suite (no full run's results" in whole.stderr
    assert "baseline passed (6 tests)" in whole.stderr
    assert _verdicts(root) == narrowed_verdicts


def test_a_narrowed_review_still_stops_on_a_covering_test_the_change_broke(
    tmp_path: pathlib.Path,
) -> None:
    root = _committed(tmp_path)
    assert kit(root, "run", "--force").returncode in (0, 1)
    replace_in(root / "fixturepkg" / "calc.py", '        return "zero"\n', '        return "nil"\n')
    completed = kit(root, "run", "--since", "HEAD")
    assert completed.returncode == 4, completed.stderr
    assert "1 test covering the changed functions" in completed.stderr
    assert "fixture_tests/test_calc.py::test_describe_zero" in completed.stderr


def test_a_signature_change_reviews_against_the_whole_suite(tmp_path: pathlib.Path) -> None:
    root = _committed(tmp_path)
    assert kit(root, "run", "--force").returncode in (0, 1)
    replace_in(root / "fixturepkg" / "calc.py", "def describe(n):\n", "def describe(n=0):\n")
    completed = kit(root, "run", "--since", "HEAD")
    assert completed.returncode in (0, 1), completed.stderr
    assert (
        "review baseline: the whole suite (fixturepkg/calc.py changed outside the bodies"
        in completed.stderr
    )
    assert "baseline passed (6 tests)" in completed.stderr
