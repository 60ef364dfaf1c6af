"""Generated operators through engine v2: real kit runs on the fixture project.

The fixture gains a module-level clean-up call (a ``file`` mutant: it runs
at import, so every test covers it) and a nested function (its mutants are
switched on by swapping the enclosing function's code).
"""

from __future__ import annotations

import json
import pathlib
import typing as typ

import pytest

from mutation.tests.fixture_project import kit, make_project, replace_in

CALC_EXTRA = """

_SEEN = []
_SEEN.clear()


def twice(x):
    def check(y):
        if y < 0:
            raise ValueError(y)
        return y

    return check(x) * 2
"""

TESTS_EXTRA = """

def test_twice():
    from fixturepkg.calc import twice

    assert twice(2) == 4


def test_twice_refuses_negatives():
    import pytest

    from fixturepkg.calc import twice

    with pytest.raises(ValueError):
        twice(-1)
"""

MODULE_LEVEL = "fixturepkg.calc.<module>__cleanup-dropped_1"
EXCUSE = f"""
[[excused_generated]]
id = "{MODULE_LEVEL}"
reason = "Nothing is ever added to _SEEN before it is cleared at import."
diff_contains = "-_SEEN.clear()"
"""


@pytest.fixture(autouse=True)
def per_test_limit() -> None:
    """Replace the suite's 30 s alarm: the kit runs whole here, bounded by kit()."""


def _project(tmp_path: pathlib.Path, excuse: str = EXCUSE) -> pathlib.Path:
    root = make_project(tmp_path / "p")
    calc = root / "fixturepkg" / "calc.py"
    calc.write_text(calc.read_text() + CALC_EXTRA)
    tests = root / "fixture_tests" / "test_calc.py"
    tests.write_text(tests.read_text() + TESTS_EXTRA)
    (root / "kit" / "excused.toml").write_text(excuse)
    return root


def _generated(root: pathlib.Path) -> dict[str, dict[str, typ.Any]]:
    data = json.loads((root / "kit" / "results" / "latest.json").read_text())
    return {m["id"]: m for m in data["mutants"] if m["origin"] == "generated"}


def test_generated_mutants_run_in_the_engine_with_excuses_and_reuse(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    completed = kit(root, "run", "--skip-mutmut", "--force")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "[PASS] generated score fixturepkg/calc.py: 100.0% (6 killed" in completed.stdout
    mutants = _generated(root)
    assert sorted(m["mutator"] for m in mutants.values()) == [
        "cleanup-dropped",
        "condition-negated",
        "condition-negated",
        "condition-negated",
        "condition-negated",
        "condition-negated",
        "raise-to-pass",
    ]
    module_level = mutants[MODULE_LEVEL]
    assert module_level["status"] == "excused"
    assert module_level["excuse"].startswith("Nothing is ever added")
    assert module_level["function"] == "<module>"
    # It runs at import: every test of the kit covers it.
    assert len(module_level["tests"]) == 8
    # Excused as equivalent, so none of those tests is spent on it.
    assert module_level["detail"] == "not executed: excused as an equivalent mutant"
    assert module_level["duration"] == 0.0
    nested = mutants["fixturepkg.calc.twice.check__raise-to-pass_1"]
    assert nested["function"] == "twice"
    assert nested["status"] == "killed"
    assert [k["test"] for k in nested["killers"]] == [
        "fixture_tests/test_calc.py::test_twice_refuses_negatives"
    ]
    assert nested["replay"] == (
        ".venv/bin/python -m mutation replay fixturepkg.calc.twice.check__raise-to-pass_1"
    )
    source = (root / "fixturepkg" / "calc.py").read_text().splitlines()
    line = source[nested["line_start"] - 1]
    assert line[nested["column_start"] - 1 : nested["column_end"]] == "raise ValueError(y)"
    assert all(m["status"] in ("killed", "excused") for m in mutants.values())

    again = kit(root, "run", "--skip-mutmut")
    assert again.returncode == 0, again.stderr
    assert "inputs unchanged since the last run" in again.stderr

    replace_in(root / "fixturepkg" / "calc.py", "        return y\n", "        return y  # ok\n")
    incremental = kit(root, "run", "--skip-mutmut")
    assert incremental.returncode == 0, incremental.stderr
    # twice's two mutants re-run; the module-level one (its key is the whole
    # file) would too, but it is excused, so it is set aside unexecuted.
    assert (
        "8 mutants; 8 selected; 5 re-used unchanged from the last run; "
        "1 excused, not executed" in incremental.stderr
    )
    assert {k: m["status"] for k, m in _generated(root).items()} == {
        k: m["status"] for k, m in mutants.items()
    }


def test_a_stale_generated_excuse_stops_the_run_before_any_test(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path, EXCUSE.replace("-_SEEN.clear()", "-_SEEN.pop()"))
    completed = kit(root, "run", "--skip-mutmut", "--force")
    assert completed.returncode == 2, completed.stderr
    assert f"excused generated mutant {MODULE_LEVEL!r} no longer has the diff" in completed.stderr
    assert "baseline" not in completed.stderr
    assert not (root / "kit" / "results" / "latest.json").exists()


def test_replay_switches_a_generated_mutant_on_and_names_its_killers(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    completed = kit(root, "replay", "fixturepkg.calc.twice.check__raise-to-pass_1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "+            pass" in completed.stdout
    assert "fixturepkg.calc.twice.check__raise-to-pass_1: killed" in completed.stdout
    assert "killed by fixture_tests/test_calc.py::test_twice_refuses_negatives" in (
        completed.stdout
    )
    unknown = kit(root, "replay", "fixturepkg.calc.no_such__call-removed_1")
    assert unknown.returncode == 2
    assert "no catalogue or generated mutant" in unknown.stderr
