"""Excuses and the score gate of the generated mutants, as the engine sees them."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from mutation.config import ConfigError
from mutation.gates import evaluate, generated_scores
from mutation.generated_excuses import (
    apply_generated_excuses,
    check_excuses,
    load_generated_excuses,
)
from mutation.generated_source import generated_mutants
from mutation.results import GateVerdict, MutantResult, Status
from mutation.tests.factories import kit_config

SOURCE = textwrap.dedent(
    """\
    def stop(task, fd):
        task.cancel()
        fd.close()
        if task.done():
            raise RuntimeError("late")
    """
)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    """A one-module project the generated source reads (and never writes)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(SOURCE)
    return tmp_path


def _mutants(root: pathlib.Path) -> list[MutantResult]:
    return [m.result for m in generated_mutants(root, ["pkg/mod.py"])]


def _results(root: pathlib.Path, statuses: dict[str, Status]) -> list[MutantResult]:
    results = _mutants(root)
    for result in results:
        result.status = statuses.get(result.id, "killed")
    return results


def _verdict(root: pathlib.Path, results: list[MutantResult]) -> GateVerdict:
    config = kit_config(
        root=root,
        targets=("pkg/mod.py",),
        tests=("test_mod.py",),
        catalogue="catalogue.toml",
        excused="excused.toml",
        results="latest.json",
        baseline="baseline.json",
        coverage_branch_min=100,
        copy=("pkg",),
    )
    gates = evaluate(config, results, [], {})
    (verdict,) = [g for g in gates if g.name.startswith("generated score")]
    return verdict


def _excuses(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    path = tmp_path / "excused.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_excuses_are_read_from_their_own_table(tmp_path: pathlib.Path) -> None:
    path = _excuses(
        tmp_path,
        """\
        [[excused]]
        id = "pkg.mod.x_stop__mutmut_1"
        reason = "a mutmut excuse, not read here"

        [[excused_generated]]
        id = "pkg.mod.stop__cleanup-dropped_2"
        reason = "closing twice is harmless here"
        diff_contains = "-    fd.close()"
        """,
    )
    assert load_generated_excuses(path) == {
        "pkg.mod.stop__cleanup-dropped_2": ("closing twice is harmless here", "-    fd.close()")
    }


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('id = "pkg.mod.stop__call-removed_1"\nreason = "short"\ndiff_contains = "-x"', "reason"),
        ('id = "pkg.mod.stop__call-removed_1"\nreason = "a long enough reason"', "diff_contains"),
        (
            'id = "pkg.mod.x_stop__mutmut_1"\nreason = "a long enough reason"\ndiff_contains = "-x"',
            "is not a generated mutant id",
        ),
    ],
)
def test_an_incomplete_excuse_is_refused(
    tmp_path: pathlib.Path, entry: str, complaint: str
) -> None:
    path = _excuses(tmp_path, f"[[excused_generated]]\n{entry}\n")
    with pytest.raises(ConfigError, match=complaint):
        load_generated_excuses(path)


def test_an_excuse_twice_is_refused(tmp_path: pathlib.Path) -> None:
    entry = (
        '[[excused_generated]]\nid = "pkg.mod.stop__call-removed_1"\n'
        'reason = "a long enough reason"\ndiff_contains = "-x"\n'
    )
    with pytest.raises(ConfigError, match="excused twice"):
        load_generated_excuses(_excuses(tmp_path, entry * 2))


def test_an_excuse_for_a_missing_or_moved_mutant_is_refused(project: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match=r"'pkg\.mod\.stop__raise-to-pass_9' does not exist"):
        check_excuses(
            {"pkg.mod.stop__raise-to-pass_9": ("reason", "-x")}, _mutants(project), "excused.toml"
        )
    with pytest.raises(ConfigError, match="no longer has the diff"):
        check_excuses(
            {"pkg.mod.stop__cleanup-dropped_1": ("reason", "-    fd.close()")},
            _mutants(project),
            "excused.toml",
        )
    check_excuses(
        {"pkg.mod.stop__cleanup-dropped_2": ("reason", "-    fd.close()")},
        _mutants(project),
        "excused.toml",
    )


def test_only_survivors_are_excused(project: pathlib.Path) -> None:
    results = _results(
        project,
        {"pkg.mod.stop__cleanup-dropped_2": "survived", "pkg.mod.stop__raise-to-pass_1": "error"},
    )
    excuses = {
        "pkg.mod.stop__cleanup-dropped_2": ("closing twice is harmless", "-    fd.close()"),
        "pkg.mod.stop__raise-to-pass_1": ("a crash is no excuse", "+        pass"),
        "pkg.mod.stop__cleanup-dropped_1": ("killed anyway", "-    task.cancel()"),
    }
    apply_generated_excuses(results, excuses)
    by_id = {r.id: r for r in results}
    assert by_id["pkg.mod.stop__cleanup-dropped_2"].status == "excused"
    assert by_id["pkg.mod.stop__cleanup-dropped_2"].excuse == "closing twice is harmless"
    assert by_id["pkg.mod.stop__raise-to-pass_1"].status == "error"
    assert by_id["pkg.mod.stop__cleanup-dropped_1"].status == "killed"


def test_the_gate_fails_below_the_threshold_and_names_each_survivor(
    project: pathlib.Path,
) -> None:
    results = _results(project, {"pkg.mod.stop__cleanup-dropped_1": "survived"})
    (score,) = generated_scores(results, ["pkg/mod.py"], 0.95)
    assert (score.total, score.killed, score.survived) == (4, 3, 1)
    assert score.score == 0.75
    verdict = _verdict(project, results)
    assert not verdict.passed
    assert verdict.name == "generated score pkg/mod.py"
    assert "not killed: pkg.mod.stop__cleanup-dropped_1 (survived, line 2)" in verdict.detail


def test_a_timeout_is_detected_as_for_mutmut(project: pathlib.Path) -> None:
    results = _results(project, {"pkg.mod.stop__cleanup-dropped_1": "timeout"})
    (score,) = generated_scores(results, ["pkg/mod.py"], 0.95)
    assert (score.timeout, score.score) == (1, 1.0)
    assert _verdict(project, results).passed


def test_excused_and_unrun_mutants_are_not_counted(project: pathlib.Path) -> None:
    results = _results(
        project,
        {
            "pkg.mod.stop__cleanup-dropped_1": "excused",
            "pkg.mod.stop__condition-negated_1": "not_run",
        },
    )
    (score,) = generated_scores(results, ["pkg/mod.py"], 0.95)
    assert (score.killed, score.excused, score.score) == (2, 1, 1.0)
    verdict = _verdict(project, results)
    assert verdict.passed
    assert "not killed" not in verdict.detail
    assert "1 not run" in verdict.detail


def test_mutmut_mutants_are_not_scored_or_excused_as_generated(project: pathlib.Path) -> None:
    results = _results(project, {})
    mutmut = MutantResult(
        id="pkg.mod.stop__cleanup-dropped_2",
        origin="mutmut",
        file="pkg/mod.py",
        function="stop",
        line_start=3,
        line_end=3,
        original="",
        replacement="",
        diff="",
        status="survived",
    )
    apply_generated_excuses([mutmut], {mutmut.id: ("a long enough reason", "-")})
    assert mutmut.status == "survived"
    (score,) = generated_scores([*results, mutmut], ["pkg/mod.py"], 0.95)
    assert (score.total, score.score) == (4, 1.0)


def test_a_module_without_mutants_passes() -> None:
    (score,) = generated_scores([], ["empty.py"], 0.95)
    assert score.score == 1.0


def test_a_target_that_is_not_python_is_a_config_error(project: pathlib.Path) -> None:
    (project / "pkg" / "mod.py").write_text("def stop(:\n")
    with pytest.raises(ConfigError, match=r"pkg/mod\.py: not valid Python"):
        generated_mutants(project, ["pkg/mod.py"])
