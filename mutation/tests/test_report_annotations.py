"""``--annotations``: GitHub workflow commands at the survivors' real lines."""

from __future__ import annotations

import dataclasses
import pathlib
import re
import subprocess
import sys

import pytest

from mutation.report import main
from mutation.report_annotations import annotation, workflow_commands
from mutation.results import Results
from mutation.tests.factories import (
    BACKEND,
    BACKEND_SOURCE,
    line_of,
    make_results,
    save_results,
    write_project,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"^::(error|notice) (?P<props>[^:]*)::(?P<message>.*)$")


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path / "project")


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


def parsed(command: str) -> tuple[dict[str, str], str]:
    match = COMMAND.match(command)
    assert match, command
    props = dict(p.split("=", 1) for p in match["props"].split(",")) if match["props"] else {}
    return props, match["message"]


def test_one_error_per_survivor_and_unkilled_must_kill_at_its_line(results: Results) -> None:
    commands = workflow_commands(results)
    review = [
        m for m in results.mutants if m.status in {"survived", "timeout", "no_tests", "error"}
    ]
    assert len(commands) == len(review) == 6
    # The unkilled must-kill mutant comes first.
    first, message = parsed(commands[0])
    assert message.startswith("env-var-ignored (catalogue) survived")
    assert first["title"] == "Mutation%3A must-kill mutant survived"
    by_id = {parsed(c)[1].split(" ", 1)[0]: parsed(c)[0] for c in commands}
    lt = by_id["cuprum._backend.x__available__mutmut_1"]
    line = line_of(BACKEND_SOURCE, "< 20")
    column = BACKEND_SOURCE.splitlines()[line - 1].index("< 20") + 1
    assert lt == {
        "file": BACKEND,
        "line": str(line),
        "endLine": str(line),
        "col": str(column),
        "endColumn": str(column),
        "title": "Mutation%3A mutant survived",
    }
    for mutant in review:
        props = by_id[mutant.id]
        assert BACKEND_SOURCE.splitlines()[int(props["line"]) - 1].strip() in mutant.diff


def test_message_is_escaped_and_says_what_to_do(results: Results) -> None:
    mutant = next(m for m in results.mutants if m.id == "env-var-ignored")
    mutant.detail = "100% sure\r\nsecond line"
    props, message = parsed(annotation(mutant))
    assert "\n" not in message
    assert "%0A" in message
    assert "Claim not guarded: CUPRUM_STREAM_BACKEND is honoured" in message
    assert "100%25 sure" in message
    assert "Replay: .venv/bin/python -m mutation replay env-var-ignored" in message
    assert props["file"] == BACKEND
    multi = dataclasses.replace(mutant, line_end=mutant.line_start + 1)
    props, _ = parsed(annotation(multi))
    assert "col" not in props
    assert props["endLine"] == str(mutant.line_start + 1)


def test_past_the_limit_the_rest_is_counted(results: Results) -> None:
    commands = workflow_commands(results, limit=2)
    assert len(commands) == 3
    assert commands[2].startswith("::notice title=Mutation::4 more survivors not annotated")


def test_cli_prints_commands_and_exits_zero(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_results(make_results(project), project)
    assert main(["--root", str(project), "--annotations"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6
    assert all(line.startswith("::error file=cuprum/_backend.py,line=") for line in out)
    assert not (project / "mutation/results/report").exists()


def test_cli_prints_nothing_when_all_killed(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = make_results(project)
    results.mutants = [m for m in results.mutants if m.status == "killed"]
    save_results(results, project)
    assert main(["--root", str(project), "--annotations"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("entry", [["mutation.report"], ["mutation", "report"]])
def test_module_entry_points(project: pathlib.Path, entry: list[str]) -> None:
    save_results(make_results(project), project)
    completed = subprocess.run(
        [sys.executable, "-m", *entry, "--root", str(project), "--annotations"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count("::error ") == 6
