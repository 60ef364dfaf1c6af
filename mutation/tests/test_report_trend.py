"""The trend against the baseline: new survivors and newly killed mutants."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from mutation.report import main
from mutation.report_markdown import render_markdown
from mutation.report_trend import (
    SNAPSHOT_NAME,
    compare,
    load_outcomes,
    mutant_keys,
    outcomes_of,
    write_snapshot,
)
from mutation.results import InvalidResultsError, Results
from mutation.tests.factories import make_results, save_results, write_project

LT = "cuprum._backend.x__available__mutmut_1"
FLIPPED = "cuprum._backend.x_select_backend__mutmut_1"


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path / "project")


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


def _by_id(results: Results, ident: str) -> int:
    return next(i for i, m in enumerate(results.mutants) if m.id == ident)


def test_keys_survive_renumbering_and_moved_lines(results: Results) -> None:
    moved = copy.deepcopy(results)
    for mutant in moved.mutants:
        mutant.id = mutant.id.replace("__mutmut_", "__mutmut_9")
        mutant.line_start += 7
        mutant.line_end += 7
        mutant.diff = mutant.diff.replace("@@ -", "@@ -1")
    assert mutant_keys(moved.mutants) == mutant_keys(results.mutants)
    assert len(set(mutant_keys(results.mutants))) == len(results.mutants)


def test_identical_mutations_get_distinct_keys(results: Results) -> None:
    twin = copy.deepcopy(results.mutants[0])
    keys = mutant_keys([results.mutants[0], twin])
    assert keys[0] != keys[1]
    assert keys[0].rsplit("#", 1)[0] == keys[1].rsplit("#", 1)[0]


def test_new_survivors_and_newly_killed_are_named(results: Results) -> None:
    before = copy.deepcopy(results)
    # Then: the "< 20" mutant was killed and the flipped one survived.
    before.mutants[_by_id(before, LT)].status = "killed"
    before.mutants[_by_id(before, FLIPPED)].status = "survived"
    trend = compare(outcomes_of(before), results, since="then")
    assert [c.id for c in trend.new_survivors] == [LT]
    assert trend.new_survivors[0].before == "killed"
    assert [c.id for c in trend.newly_killed] == [FLIPPED]
    assert (trend.added, trend.removed) == (0, 0)
    assert trend.note == "Compared with the baseline run of then."


def test_new_mutants_that_survive_are_new_survivors(results: Results) -> None:
    before = copy.deepcopy(results)
    before.mutants = [m for m in before.mutants if m.id != LT]
    before.mutants.append(copy.deepcopy(results.mutants[0]))
    before.mutants[-1].diff = before.mutants[-1].diff.replace('"rust"', '"gone"')
    trend = compare(outcomes_of(before), results)
    assert [c.label for c in trend.new_survivors] == [f"{LT} (cuprum/_backend.py:15)"]
    assert trend.new_survivors[0].before == "new"
    assert (trend.added, trend.removed) == (1, 1)


def test_review_runs_compare_only_what_ran(results: Results) -> None:
    before = copy.deepcopy(results)
    results.selection = ["cuprum/_backend.py::select_backend"]
    results.mutants = [m for m in results.mutants if m.function == "select_backend"]
    trend = compare(outcomes_of(before), results)
    assert trend.removed == 0
    assert trend.new_survivors == []


def test_no_snapshot_says_how_to_record_one(results: Results) -> None:
    trend = compare(None, results, scores={"cuprum/_backend.py": 0.5})
    assert not trend.known
    assert "make mutate-baseline" in trend.note
    text = render_markdown(results, stale=[], trend=trend)
    assert "make mutate-baseline" in text.split("### Trend")[1]
    assert "50.0% (-25.0)" in text


def test_snapshot_round_trip_and_results_as_previous(
    results: Results, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / SNAPSHOT_NAME
    assert write_snapshot(results, path) == len(results.mutants) - 1  # not_run left out
    outcomes, created = load_outcomes(path)
    assert outcomes == outcomes_of(results)
    assert created == results.created
    other = tmp_path / "latest.json"
    other.write_text(results.to_json(), encoding="utf-8")
    assert load_outcomes(other)[0] == outcomes
    (tmp_path / "bad.json").write_text('{"schema": "x"}', encoding="utf-8")
    with pytest.raises(InvalidResultsError, match="neither a mutant snapshot"):
        load_outcomes(tmp_path / "bad.json")
    results.selection = ["f"]
    with pytest.raises(ValueError, match="review run"):
        write_snapshot(results, path)


def test_report_cli_shows_the_trend_against_the_snapshot(
    project: pathlib.Path, results: Results
) -> None:
    before = copy.deepcopy(results)
    before.mutants[_by_id(before, LT)].status = "killed"
    (project / "mutation").mkdir(exist_ok=True)
    write_snapshot(before, project / "mutation" / SNAPSHOT_NAME)
    (project / "mutation" / "baseline.json").write_text(
        json.dumps({"cuprum/_backend.py": 0.3}), encoding="utf-8"
    )
    save_results(results, project)
    assert main(["--root", str(project)]) == 0
    out = project / "mutation/results/report"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    trend = summary.split("### Trend")[1].split("###")[0]
    assert f"- New survivors: 1: `{LT} (cuprum/_backend.py:15)`" in trend
    assert "- Newly killed: 0" in trend
    assert "30.0% (-5.0)" in summary
    page = (out / "mutation-report.html").read_text(encoding="utf-8")
    assert f"<code>{LT} (cuprum/_backend.py:15)</code>" in page


def test_report_cli_refuses_an_unreadable_previous(
    project: pathlib.Path, results: Results, capsys: pytest.CaptureFixture[str]
) -> None:
    save_results(results, project)
    missing = project / "nowhere.json"
    assert main(["--root", str(project), "--previous", str(missing)]) == 3
    assert "cannot read the previous outcomes" in capsys.readouterr().err
