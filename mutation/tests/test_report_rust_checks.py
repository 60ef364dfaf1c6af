"""The Rust result file's checks in the reports: absent, stale, invalid, misplaced.

Over results built on the real ``pump.rs`` (:mod:`mutation.tests.rust_factories`
says why they are built rather than run).
"""

from __future__ import annotations

import pathlib

import pytest

from mutation.report import main
from mutation.report_rust import NOT_RUN_NOTE, rust_test_file
from mutation.results import Results
from mutation.rust_config import RustConfig
from mutation.rust_results import TESTS_CHANGED
from mutation.tests.rust_factories import (
    PUMP,
    REPO,
    REPORT_DIR,
    named,
    pump_project,
    read_reports,
    save_rust_results,
)

OUT = REPORT_DIR
_report = read_reports
_named = named


@pytest.fixture
def pump(tmp_path: pathlib.Path) -> tuple[pathlib.Path, RustConfig, Results]:
    return pump_project(tmp_path)


def test_absent_rust_results_give_python_reports_and_a_note(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, config, _ = pump
    (root / config.results).unlink()
    assert main(["--root", str(root)]) == 0
    assert NOT_RUN_NOTE in capsys.readouterr().out
    report, summary, page = _report(root)
    assert PUMP not in report["files"]
    assert NOT_RUN_NOTE in summary
    assert NOT_RUN_NOTE.replace("`", "") in page.replace("`", "")


def test_stale_rust_results_are_refused_naming_the_function(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _, _ = pump
    source = root / PUMP
    source.write_text(
        source.read_text(encoding="utf-8").replace(
            "    errno_of(err) == libc::EINTR\n", "    errno_of(err) == libc::EINTR // edited\n"
        ),
        encoding="utf-8",
    )
    assert main(["--root", str(root)]) == 3
    err = capsys.readouterr().err
    assert f"{PUMP}::is_interrupted" in err
    assert "make mutate-rust" in err
    assert err.count("\n") == 2
    assert not (root / OUT).exists()
    assert main(["--root", str(root), "--allow-stale"]) == 0
    _, summary, _ = _report(root)
    assert f"`rust.json: {PUMP}::is_interrupted`" in summary


def test_changed_rust_tests_make_the_results_stale(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _, _ = pump
    test = root / "rust_extension/tests/pump/signals.rs"
    test.write_text(test.read_text(encoding="utf-8") + "\n// one more line\n", encoding="utf-8")
    assert main(["--root", str(root)]) == 3
    assert TESTS_CHANGED in capsys.readouterr().err


@pytest.mark.parametrize(
    ("test", "file"),
    [
        ("lib::tests::decode_matches_python", "rust_extension/src/lib.rs"),
        ("pump::signals::eintr_is_retried", "rust_extension/tests/pump/signals.rs"),
        ("pump::pipe_to_pipe", "rust_extension/tests/pump/main.rs"),
        ("pump (test binary)", "rust_extension/tests/pump/main.rs"),
        ("other::x", "rust_extension/tests/other"),
    ],
)
def test_rust_killers_are_filed_under_the_test_file_that_holds_them(test: str, file: str) -> None:
    assert rust_test_file(test, PUMP, REPO) == file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a valid result file"),
        ('{"schema": "other/1"}', "schema is 'other/1'"),
    ],
)
def test_invalid_rust_results_are_refused(
    pump: tuple[pathlib.Path, RustConfig, Results],
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    root, config, _ = pump
    (root / config.results).write_text(text, encoding="utf-8")
    assert main(["--root", str(root)]) == 3
    err = capsys.readouterr().err
    assert message in err
    assert "rust.json" in err
    assert "make mutate-rust" in err


def test_python_mutants_in_the_rust_file_are_refused(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, config, rust = pump
    rust.mutants[0].language = "python"
    save_rust_results(rust, config)
    assert main(["--root", str(root)]) == 3
    assert "a Rust result file holds Rust mutants only" in capsys.readouterr().err


def test_wrongly_placed_rust_mutant_is_refused(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, config, rust = pump
    _named(rust, "replace || with &&").line_start -= 1
    save_rust_results(rust, config)
    assert main(["--root", str(root)]) == 3
    err = capsys.readouterr().err
    assert "replace || with && in is_downstream_closed" in err
    assert "make mutate-rust" in err
