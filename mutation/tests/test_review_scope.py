"""Which tests a review's baseline runs: narrowed only where it is sound.

A real git repository in ``tmp_path`` (the scope reads the ``--since``
ref's files with ``git show``); the "last full run" is a results record
built from the committed tree's hashes.
"""

from __future__ import annotations

import pathlib

import pytest

from mutation.results import RESULTS_SCHEMA, MutantResult, Results, fingerprint
from mutation.review_scope import blank_bodies, excuses_of, review_scope
from mutation.tests.factories import kit_config
from mutation.tests.fixture_project import commit_all

A = '''\
LIMIT = 3


def f(x):
    """Clamp."""
    if x > LIMIT:
        return LIMIT
    return x


def g(y):
    return y + 1
'''

TESTS = ("t.py", "u.py")


def _mutant(function: str, tests: list[str]) -> MutantResult:
    return MutantResult(
        id=f"pkg.a.x_{function}__mutmut_1",
        origin="mutmut",
        file="pkg/a.py",
        function=function,
        line_start=1,
        line_end=1,
        original="",
        replacement="",
        diff="",
        status="killed",
        tests=tests,
    )


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "p"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text(A)
    (root / "pkg" / "b.py").write_text("def h():\n    return 0\n")
    (root / "t.py").write_text("def test_f():\n    pass\n\ndef test_f_big():\n    pass\n")
    (root / "u.py").write_text("def test_g():\n    pass\n")
    (root / "helper.py").write_text("X = 1\n")
    commit_all(root)
    return root


def _config(root: pathlib.Path):  # type: ignore[no-untyped-def]
    return kit_config(root=root, tests=TESTS, copy=("helper.py",))


def _inputs(root: pathlib.Path) -> dict[str, dict[str, str]]:
    return fingerprint(root, _config(root).input_groups())[0]


def _last_run(root: pathlib.Path, **overrides: object) -> Results:
    """The full run of the committed tree: f covered by t.py, g by u.py."""
    results = Results(
        schema=RESULTS_SCHEMA,
        created="",
        inputs=_inputs(root),
        inputs_digest="",
        phases={},
        modules=[],
        mutants=[
            _mutant("f", ["t.py::test_f", "t.py::test_f_big"]),
            _mutant("g", ["u.py::test_g"]),
        ],
        tests=[],
        coverage={},
        gates=[],
    )
    for name, value in overrides.items():
        setattr(results, name, value)
    return results


def _edit(root: pathlib.Path, old: str, new: str, file: str = "pkg/a.py") -> None:
    path = root / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _scope(root: pathlib.Path, selected: dict[str, set[str]], previous: Results | None):  # type: ignore[no-untyped-def]
    return review_scope(_config(root), "HEAD", selected, previous, _inputs(root))


def test_a_body_change_runs_only_the_tests_that_covered_that_body(project: pathlib.Path) -> None:
    previous = _last_run(project)
    _edit(project, "        return LIMIT\n", "        return LIMIT  # reviewed\n")
    scope = _scope(project, {"pkg/a.py": {"f"}, "pkg/b.py": set()}, previous)
    assert scope.tests == ["t.py::test_f", "t.py::test_f_big"]
    assert scope.reason == "2 tests covering the changed functions in the last full run"


def test_a_changed_test_file_runs_whole(project: pathlib.Path) -> None:
    previous = _last_run(project)
    _edit(project, "    return y + 1\n", "    return y + 2\n")
    _edit(project, "def test_g():\n", "def test_g_renamed():\n", file="u.py")
    scope = _scope(project, {"pkg/a.py": {"g"}}, previous)
    assert scope.tests == ["u.py"]
    _edit(project, "def test_f_big():\n", "def test_f_bigger():\n", file="t.py")
    assert _scope(project, {"pkg/a.py": {"g"}}, previous).tests == ["t.py", "u.py"]


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("LIMIT = 3\n", "LIMIT = 4\n", "changed outside the bodies"),
        ("def f(x):\n", "def f(x=1):\n", "changed outside the bodies"),
        ("def f(x):\n", "@staticmethod\ndef f(x):\n", "changed outside the bodies"),
        ("def g(y):\n", "def k():\n    return 1\n\n\ndef g(y):\n", "k new since HEAD"),
    ],
)
def test_a_change_outside_the_bodies_runs_the_whole_baseline(
    project: pathlib.Path, old: str, new: str, why: str
) -> None:
    previous = _last_run(project)
    _edit(project, "        return LIMIT\n", "        return LIMIT + 0\n")
    _edit(project, old, new)
    selected = {"pkg/a.py": {"f", "k"} if "k" in why else {"f"}}
    scope = _scope(project, selected, previous)
    assert scope.tests is None
    assert why in scope.reason


def test_a_target_changed_since_the_last_run_but_not_since_base_runs_everything(
    project: pathlib.Path,
) -> None:
    # The last full run saw b.py as it is now edited; HEAD has the original.
    _edit(project, "    return 0\n", "    return 1\n", file="pkg/b.py")
    previous = _last_run(project)
    _edit(project, "    return 1\n", "    return 0\n", file="pkg/b.py")
    _edit(project, "    return y + 1\n", "    return y + 2\n")
    scope = _scope(project, {"pkg/a.py": {"g"}, "pkg/b.py": set()}, previous)
    assert scope.tests is None
    assert scope.reason == "pkg/b.py changed since the last full run other than since HEAD"


def test_other_inputs_changed_run_the_whole_baseline(project: pathlib.Path) -> None:
    previous = _last_run(project)
    _edit(project, "X = 1\n", "X = 2\n", file="helper.py")
    scope = _scope(project, {"pkg/a.py": {"g"}}, previous)
    assert scope.tests is None
    assert "other than the targets and tests changed" in scope.reason


@pytest.mark.parametrize(
    ("previous_of", "why"),
    [
        (lambda root: None, "no full run's results"),
        (lambda root: _last_run(root, selection=["pkg/a.py:g"]), "not of a full run"),
        (lambda root: _last_run(root, shard="1/2"), "not of a full run"),
        (lambda root: _last_run(root, mutants=[_mutant("f", ["t.py::test_f"])]), "no mutant"),
        (lambda root: _last_run(root, mutants=[_mutant("g", [])]), "no test covered"),
    ],
)
def test_without_a_usable_record_the_whole_baseline_runs(
    project: pathlib.Path, previous_of: object, why: str
) -> None:
    previous = previous_of(project)  # type: ignore[operator]
    _edit(project, "    return y + 1\n", "    return y + 2\n")
    scope = _scope(project, {"pkg/a.py": {"g"}}, previous)
    assert scope.tests is None
    assert why in scope.reason


def test_blank_bodies_hides_only_the_named_bodies() -> None:
    lines = blank_bodies(A, {"f"})
    assert "<body of f>" in lines
    assert "def f(x):" in lines
    assert "    return y + 1" in lines
    assert '    """Clamp."""' not in lines


def test_a_review_checks_only_its_modules_excuses() -> None:
    excuses = {
        "cuprum._pipeline.x_run__mutmut_1": ("reason", "diff"),
        "cuprum._pipeline_streams.x__notify__mutmut_2": ("reason", "diff"),
        "cuprum._pipeline._PipelineRun._terminate__cleanup-dropped_4": ("reason", "diff"),
    }
    kept = excuses_of(excuses, ["cuprum/_pipeline.py"])
    assert sorted(kept) == [
        "cuprum._pipeline._PipelineRun._terminate__cleanup-dropped_4",
        "cuprum._pipeline.x_run__mutmut_1",
    ]
    assert excuses_of(excuses, []) == {}
