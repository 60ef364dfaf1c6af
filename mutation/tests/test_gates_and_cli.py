"""Gates count only the mutants that ran; a hang is detected but never a kill;
``python -m mutation --help`` lists every command."""

from __future__ import annotations

import dataclasses
import pathlib
import subprocess
import sys

import pytest

from mutation.config import ConfigError, KitConfig, load_config
from mutation.gates import evaluate, module_scores
from mutation.results import Killer, MutantResult, Status, fingerprint
from mutation.tests.factories import kit_config
from mutation.tests.fixture_project import kit, make_project

TARGETS = ("pkg/a.py", "pkg/b.py")
REPO = pathlib.Path(__file__).resolve().parents[2]


def _config() -> KitConfig:
    return kit_config(targets=TARGETS)


def _mutant(ident: str, file: str, status: Status, **extra: object) -> MutantResult:
    result = MutantResult(
        id=ident,
        origin="mutmut",
        file=file,
        function="f",
        line_start=1,
        line_end=1,
        original="a",
        replacement="b",
        diff="",
        status=status,
    )
    return dataclasses.replace(result, **extra)  # type: ignore[arg-type]


def test_a_review_run_counts_only_the_mutants_that_ran() -> None:
    mutants = [
        _mutant("a1", "pkg/a.py", "killed", killers=[Killer("t.py::x", "boom")]),
        _mutant("a2", "pkg/a.py", "killed", killers=[Killer("t.py::x", "boom")]),
        _mutant("a3", "pkg/a.py", "not_run"),
        _mutant("a4", "pkg/a.py", "not_run"),
        _mutant("b1", "pkg/b.py", "not_run"),
    ]
    config = _config()
    verdicts = {v.name: v for v in evaluate(config, mutants, module_scores(mutants, config), {})}
    assert verdicts["mutmut score pkg/a.py"].detail.startswith(
        "100.0% (2 killed + 0 timeout of 2 counted, 0 excused, 2 not run)"
    )
    assert verdicts["mutmut score pkg/b.py"].detail == "no mutant of this module ran, 1 not run"
    assert verdicts["mutmut score pkg/b.py"].passed


def test_a_hang_is_detected_for_the_score_but_never_kills_a_must_kill_mutant() -> None:
    mutants = [
        _mutant("a1", "pkg/a.py", "timeout"),
        _mutant("a2", "pkg/a.py", "survived"),
        _mutant("must", "pkg/b.py", "timeout", must_kill=True, origin="catalogue"),
    ]
    config = _config()
    verdicts = {v.name: v for v in evaluate(config, mutants, module_scores(mutants, config), {})}
    assert verdicts["mutmut score pkg/a.py"].detail.startswith("50.0% (0 killed + 1 timeout of 2")
    assert verdicts["survivors"].detail.startswith("1 mutmut mutants neither killed, timed out")
    assert not verdicts["survivors"].passed
    assert verdicts["must-kill catalogue"].detail == "not killed: must (timeout)"


def test_help_lists_every_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mutation", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    listed = completed.stdout.split("positional arguments:")[1]
    for command in ("run", "merge", "coverage", "check", "baseline", "replay"):
        assert f"\n    {command} " in listed, command


def test_the_kits_own_modules_are_inputs_of_a_run() -> None:
    kit = load_config(REPO).input_groups()["kit"]
    assert {"mutation/run.py", "mutation/operators.py", "mutation/execute.py"} <= set(kit)
    assert not [k for k in kit if "/tests/" in k]


def test_an_input_outside_the_root_keeps_its_path_and_its_change_shows(
    tmp_path: pathlib.Path,
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    outside = tmp_path / "kit" / "engine.py"
    outside.parent.mkdir()
    outside.write_text("VERSION = 1\n")
    groups = {"source": ["a.py"], "kit": [str(outside)]}
    inputs, before = fingerprint(root, groups)
    assert set(inputs["kit"]) == {outside.as_posix()}
    outside.write_text("VERSION = 2\n")
    assert fingerprint(root, groups)[1] != before


def test_a_target_mutmut_does_not_mutate_is_a_configuration_error(
    tmp_path: pathlib.Path,
) -> None:
    # mutmut reads only_mutate, not [mutation] targets: a target missing there
    # would get no mutmut mutant and an empty score gate.
    root = make_project(tmp_path)
    (root / "fixturepkg" / "extra.py").write_text("def f():\n    return 1\n")
    cfg = root / "setup.cfg"
    text = cfg.read_text()
    cfg.write_text(text.replace("targets =\n", "targets =\n    fixturepkg/extra.py\n"))

    with pytest.raises(ConfigError) as missing:
        load_config(root)

    assert str(missing.value) == (
        "setup.cfg [mutmut] only_mutate must list exactly the [mutation] targets "
        "(not in [mutmut] only_mutate: fixturepkg/extra.py); make the two lists the same"
    )
    cfg.write_text(text.replace("only_mutate =\n", "only_mutate =\n    fixturepkg/extra.py\n"))
    with pytest.raises(ConfigError, match=r"not in \[mutation\] targets: fixturepkg/extra\.py\)"):
        load_config(root)
    cfg.write_text(text)
    assert load_config(root).targets == ("fixturepkg/calc.py",)


def test_scoped_tests_run_only_against_their_targets(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path)
    (root / "fixturepkg" / "extra.py").write_text("def f():\n    return 1\n")
    cfg = root / "setup.cfg"
    text = cfg.read_text()
    for key in ("targets =\n", "only_mutate =\n"):
        text = text.replace(key, f"{key}    fixturepkg/extra.py\n")
    scoped = "scoped_tests =\n    fixture_tests/test_calc.py\nscoped_targets =\n    fixturepkg/extra.py\n"
    cfg.write_text(text.replace("[mutation]\n", "[mutation]\n" + scoped))

    config = load_config(root)

    test = "fixture_tests/test_calc.py::test_add"
    assert config.runs_against(test, "fixturepkg/extra.py")
    assert not config.runs_against(test, "fixturepkg/calc.py")
    assert config.runs_against("fixture_tests/test_other.py::t", "fixturepkg/calc.py")


@pytest.mark.parametrize(
    ("scoped", "message"),
    [
        (
            "scoped_tests =\n    fixture_tests/test_calc.py\n",
            "setup.cfg [mutation] scoped_tests and scoped_targets go together: "
            "list both (tests that run only against those targets) or neither",
        ),
        (
            "scoped_tests =\n    fixture_tests/nowhere.py\nscoped_targets =\n    fixturepkg/calc.py\n",
            "setup.cfg [mutation] scoped_tests names fixture_tests/nowhere.py, which is not "
            "in [mutation] tests; add it there or remove it from scoped_tests",
        ),
        (
            "scoped_tests =\n    fixture_tests/test_calc.py\nscoped_targets =\n    fixturepkg/x.py\n",
            "setup.cfg [mutation] scoped_targets names fixturepkg/x.py, which is not "
            "in [mutation] targets; add it there or remove it from scoped_targets",
        ),
    ],
)
def test_a_bad_scope_is_a_configuration_error(
    tmp_path: pathlib.Path, scoped: str, message: str
) -> None:
    root = make_project(tmp_path)
    cfg = root / "setup.cfg"
    cfg.write_text(cfg.read_text().replace("[mutation]\n", "[mutation]\n" + scoped))

    with pytest.raises(ConfigError) as excinfo:
        load_config(root)

    assert str(excinfo.value) == message


def test_a_scoped_tests_lines_do_not_count_for_other_targets(tmp_path: pathlib.Path) -> None:
    # calc.py gains a function only the scoped test calls: the scoped test
    # never runs against calc.py's mutants, so it must not cover calc.py.
    root = make_project(tmp_path)
    calc = root / "fixturepkg" / "calc.py"
    calc.write_text(calc.read_text() + "\n\ndef only_scoped(n):\n    return n * 7\n")
    (root / "fixturepkg" / "extra.py").write_text("def f():\n    return 1\n")
    (root / "fixture_tests" / "test_extra.py").write_text(
        "from fixturepkg.calc import only_scoped\nfrom fixturepkg.extra import f\n\n\n"
        "def test_extra():\n    assert only_scoped(f()) == 7\n"
    )
    cfg = root / "setup.cfg"
    text = cfg.read_text()
    for key in ("targets =\n", "only_mutate =\n"):
        text = text.replace(key, f"{key}    fixturepkg/extra.py\n")
    text = text.replace(
        "tests =\n    fixture_tests/test_calc.py\n",
        "tests =\n    fixture_tests/test_calc.py\n    fixture_tests/test_extra.py\n",
    )
    cfg.write_text(text)
    shared = kit(root, "coverage")
    scoped = "scoped_tests =\n    fixture_tests/test_extra.py\nscoped_targets =\n    fixturepkg/extra.py\n"
    cfg.write_text(text.replace("[mutation]\n", "[mutation]\n" + scoped))
    separate = kit(root, "coverage")

    def percent(output: str, target: str) -> float:
        line = next(x for x in output.splitlines() if f"coverage {target}:" in x)
        return float(line.split(": ", 1)[1].split("%", 1)[0])

    assert shared.returncode == separate.returncode == 0, shared.stderr + separate.stderr
    assert percent(shared.stdout, "fixturepkg/extra.py") == 100.0
    assert percent(separate.stdout, "fixturepkg/extra.py") == 100.0
    assert percent(separate.stdout, "fixturepkg/calc.py") < percent(
        shared.stdout, "fixturepkg/calc.py"
    )
