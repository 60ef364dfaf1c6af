"""``python -m mutation.report``: outputs, exit codes and stale results."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from mutation.report import FULL_SUMMARY_NAME, HTML_NAME, JSON_NAME, SUMMARY_NAME, main
from mutation.tests.factories import (
    BACKEND,
    STREAMS,
    make_results,
    save_results,
    write_project,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
NAMES = (SUMMARY_NAME, FULL_SUMMARY_NAME, JSON_NAME, HTML_NAME)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = write_project(tmp_path / "project")
    save_results(make_results(root), root)
    return root


def run(project: pathlib.Path, *extra: str) -> int:
    return main(["--root", str(project), *extra])


def test_writes_three_reports(project: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project) == 0
    out = project / "mutation/results/report"
    for name in NAMES:
        assert (out / name).is_file()
    assert "wrote" in capsys.readouterr().out
    summary = (out / SUMMARY_NAME).read_text(encoding="utf-8")
    assert summary.startswith("## Mutation testing: FAILED")
    report = json.loads((out / JSON_NAME).read_text(encoding="utf-8"))
    assert set(report["files"]) == {BACKEND, STREAMS}


def test_explicit_paths(project: pathlib.Path, tmp_path: pathlib.Path) -> None:
    moved = tmp_path / "elsewhere.json"
    (project / "mutation/results/latest.json").rename(moved)
    out = tmp_path / "out"
    assert run(project, "--results", str(moved), "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)


def test_missing_results(project: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "mutation/results/latest.json").unlink()
    assert run(project) == 3
    assert "no result file" in capsys.readouterr().err
    assert not (project / "mutation/results/report").exists()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"schema": "other/1"}',
        '{"schema": "cuprum-mutation-results/1"}',
    ],
)
def test_invalid_results(project: pathlib.Path, text: str) -> None:
    (project / "mutation/results/latest.json").write_text(text, encoding="utf-8")
    assert run(project) == 3


def test_unknown_status_is_invalid(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "mutation/results/latest.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["mutants"][0]["status"] = "Bogus"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert run(project) == 3
    assert "unknown status 'Bogus'" in capsys.readouterr().err


def test_stale_results_are_refused(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / BACKEND).open("a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert run(project) == 3
    err = capsys.readouterr().err
    assert "stale" in err
    assert BACKEND in err
    assert "--allow-stale" in err
    assert not (project / "mutation/results/report").exists()


def test_removed_input_is_stale(project: pathlib.Path) -> None:
    (project / STREAMS).unlink()
    assert run(project) == 3


def test_allow_stale_flags_every_output(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / BACKEND).open("a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert run(project, "--allow-stale") == 0
    assert "STALE" in capsys.readouterr().out
    out = project / "mutation/results/report"
    summary = (out / SUMMARY_NAME).read_text(encoding="utf-8")
    assert "STALE RESULTS" in summary.splitlines()[0]
    assert f"`{BACKEND}`" in summary.split("## Mutation testing")[0]
    report = json.loads((out / JSON_NAME).read_text(encoding="utf-8"))
    assert next(iter(report)) == "staleWarning"
    assert report["staleInputs"] == [BACKEND]
    page = (out / HTML_NAME).read_text(encoding="utf-8")
    body = page.split("<body>", 1)[1].lstrip()
    assert body.startswith('<div id="stale-banner"')
    assert "<title>STALE" in page


@pytest.mark.parametrize("argv", [["--bogus"], ["--results"], ["extra"]])
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--allow-stale" in capsys.readouterr().out


def test_unwritable_output(project: pathlib.Path) -> None:
    blocker = project / "blocker"
    blocker.write_text("a file, not a directory", encoding="utf-8")
    assert run(project, "--out", str(blocker / "out")) == 1


def test_module_entry_point(project: pathlib.Path, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "cli-out"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mutation.report",
            "--root",
            str(project),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (out / HTML_NAME).is_file()


def test_a_wrong_mutant_location_is_refused(
    project: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "mutation/results/latest.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    # The old bug: a mutant placed on the function's docstring or first line.
    raw["mutants"][0]["line_start"] = raw["mutants"][0]["line_end"] = 1
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert run(project) == 3
    err = capsys.readouterr().err
    assert "1 mutant locations are wrong" in err
    assert f"mutant {raw['mutants'][0]['id']} ({BACKEND}:1)" in err
    assert not (project / "mutation/results/report").exists()


def test_full_flag_makes_summary_the_full_one(project: pathlib.Path) -> None:
    assert run(project, "--full") == 0
    out = project / "mutation/results/report"
    full = (out / FULL_SUMMARY_NAME).read_text(encoding="utf-8")
    assert (out / SUMMARY_NAME).read_text(encoding="utf-8") == full
    assert "_Full report:" not in full
    assert run(project) == 0
    assert "_Full report:" in (out / SUMMARY_NAME).read_text(encoding="utf-8")
