"""The Rust phase's outcomes in every report: JSON, Markdown, HTML, annotations.

Two sources of Rust results: a real Rust phase run (real cargo-mutants) over
the tiny crate of :mod:`mutation.tests.ring_crate`, and results over the
real ``pump.rs`` built through the kit's public parts
(:mod:`mutation.tests.rust_factories` says why).
"""

from __future__ import annotations

import html
import json
import os
import pathlib
import re
import shutil
import typing as typ

import jsonschema
import pytest

from mutation.report import HTML_NAME, main
from mutation.report_annotations import workflow_commands
from mutation.report_markdown import render_markdown
from mutation.report_markdown_blocks import code
from mutation.report_rust import NOT_RUN_NOTE, combine
from mutation.results import RESULTS_SCHEMA, Killer, Results
from mutation.rust_config import RustConfig
from mutation.tests import browser
from mutation.tests.factories import make_results, mutate, mutmut, save_results
from mutation.tests.ring_crate import RING_TESTS, make_ring, require_tools, run_phase
from mutation.tests.rust_factories import (
    NONBLOCKING_KILLER,
    PUMP,
    REPORT_DIR,
    RUST_KILLER,
    named,
    pump_project,
    read_reports,
)
from mutation.tests.test_report_elements import SCHEMA_PATH
from mutation.tests.test_report_html import NO_OVERFLOW, SCREENSHOTS

Json = dict[str, typ.Any]
OUT = REPORT_DIR


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    if not SCHEMA_PATH.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"report schema not found at {SCHEMA_PATH} in CI")
        pytest.skip(f"report schema not found at {SCHEMA_PATH}")
    return jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.fixture
def pump(tmp_path: pathlib.Path) -> tuple[pathlib.Path, RustConfig, Results]:
    return pump_project(tmp_path)


_report = read_reports
_named = named


def _source_line(root: pathlib.Path, file: str, line: int) -> str:
    return (root / file).read_text(encoding="utf-8").splitlines()[line - 1]


# --- results over the real pump.rs ----------------------------------------


def test_rust_mutants_join_the_elements_report_at_their_real_places(
    pump: tuple[pathlib.Path, RustConfig, Results], validator: jsonschema.Draft7Validator
) -> None:
    root, _, rust = pump
    assert main(["--root", str(root)]) == 0
    report, _, _ = _report(root)
    errors = sorted(validator.iter_errors(report), key=str)
    assert not errors, [e.message for e in errors[:5]]
    entry = report["files"][PUMP]
    assert entry["language"] == "rust"
    assert entry["source"] == (root / PUMP).read_text(encoding="utf-8")
    assert report["files"]["cuprum/_backend.py"]["language"] == "python"
    placed = {m["id"]: m for m in entry["mutants"]}
    assert set(placed) == {m.id for m in rust.mutants}
    operator = _named(rust, "replace || with &&")
    where = placed[operator.id]["location"]
    line = _source_line(root, PUMP, where["start"]["line"])
    assert line.strip() == "code == libc::EPIPE || code == libc::ECONNRESET"
    assert line[where["start"]["column"] - 1 : where["end"]["column"] - 1] == "||"
    # cargo-mutants' marker comment is not part of the replacement.
    assert placed[operator.id]["replacement"] == "&&"
    assert placed[operator.id]["status"] == "Survived"
    assert placed[_named(rust, "is_would_block").id]["status"] == "CompileError"
    assert report["framework"]["dependencies"]["cargo-mutants"]
    tests = {t["id"]: f for f, v in report["testFiles"].items() for t in v["tests"]}
    assert tests[RUST_KILLER] == "rust_extension/tests/pump/signals.rs"
    assert tests[NONBLOCKING_KILLER] == "cuprum/unittests/test_rust_pump.py"
    assert report["performance"]["mutation"] > 90_000


def test_summary_has_rust_gates_scores_survivors_and_unviable_apart(
    pump: tuple[pathlib.Path, RustConfig, Results],
) -> None:
    root, _, rust = pump
    assert main(["--root", str(root)]) == 0
    _, summary, _ = _report(root)
    assert summary.startswith("## Mutation testing: FAILED")
    rust_part = summary.split("### Rust phase", 1)[1].split("\n### ", 1)[0]
    assert "| rust survivors | ❌ fail |" in rust_part
    assert "| rust must-kill catalogue | ❌ fail |" in rust_part
    assert "| `rust_extension/src/pump.rs` | 75.0% |" in rust_part
    assert "1 killed only by a Python test" in rust_part
    survivors = summary.split("### Survivors", 1)[1].split("\n### ", 1)[0]
    operator = _named(rust, "replace || with &&")
    assert f"{code(operator.id)}: survived at `{PUMP}:{operator.line_start}`" in survivors
    assert "`rust-epipe-is-an-error-when-splicing`: must-kill survived" in survivors
    assert "```rust" in survivors
    unviable = _named(rust, "is_would_block")
    assert unviable.id not in survivors
    listed = summary.split("### Unviable (1, not scored)", 1)[1].split("\n### ", 1)[0]
    assert unviable.id in listed
    # A cross-language kill names its Python killer as such.
    assert f"`{NONBLOCKING_KILLER}` (python test)" in render_markdown(
        make_results(root), stale=[], root=root, full=True, rust=_cross_must_kill(rust)
    )


def _cross_must_kill(rust: Results) -> Results:
    """``rust`` with its killed catalogue entry killed by the Python test instead."""
    entry = next(m for m in rust.mutants if m.origin == "catalogue" and m.status == "killed")
    entry.killers = [Killer(NONBLOCKING_KILLER, "TimeoutError", "python")]
    return rust


def test_rust_survivors_keep_their_place_in_a_full_pr_summary(
    pump: tuple[pathlib.Path, RustConfig, Results],
) -> None:
    root, _, rust = pump
    python = make_results(root)
    # Hundreds of Python survivors, each with its diff, overflow the budget.
    base = next(m for m in python.mutants if m.status == "survived" and m.origin == "mutmut")
    change = mutate("x + 1", "+ 1", "* 1")
    python.mutants.extend(
        mutmut(str(100 + n), "unused", change, "survived", detail=f"#{n} " + "d" * 300)
        for n in range(400)
    )
    assert base.status == "survived"
    text = render_markdown(python, stale=[], root=root, rust=rust)
    assert len(text) < 60_000
    assert "more; see `mutation-report.html`" in text
    assert _named(rust, "replace || with &&").id in text.split("### Survivors", 1)[1]


def test_annotations_put_rust_survivors_at_their_real_lines(
    pump: tuple[pathlib.Path, RustConfig, Results], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _, rust = pump
    assert main(["--root", str(root), "--annotations"]) == 0
    commands = capsys.readouterr().out.splitlines()
    assert all(c.startswith("::") for c in commands)
    operator = _named(rust, "replace || with &&")
    mine = [c for c in commands if f"file={PUMP},line={operator.line_start}," in c]
    assert len(mine) == 1
    assert "col=25,endColumn=26" in mine[0]
    assert "`code == libc::EPIPE && code == libc::ECONNRESET`" in mine[0]
    must = next(c for c in commands if "rust-epipe-is-an-error-when-splicing" in c)
    assert "must-kill mutant survived" in must
    assert not any(_named(rust, "is_would_block").id in c for c in commands)


def test_page_has_the_rust_file_highlighted_with_killers_by_language(
    pump: tuple[pathlib.Path, RustConfig, Results],
) -> None:
    root, _, rust = pump
    assert main(["--root", str(root)]) == 0
    _, _, page = _report(root)
    section = page.split(f'data-file="{PUMP}" data-language="rust"', 1)[1].split("</section>")[0]
    # Pygments' RustLexer: `fn` is a keyword, `u8` a builtin type.
    assert '<span class="k">fn</span>' in section
    assert re.search(r'<span class="k[a-z]*">u8</span>', section)
    cross = _named(rust, "is_nonblocking")
    card = section.split(f'data-id="{html.escape(cross.id)}"', 1)[1].split("</article>")[0]
    assert "Killed by a Python test" in card
    assert '<span class="lang">python</span>' in card
    own = section.split(f'data-id="{html.escape(_named(rust, "is_interrupted").id)}"', 1)[1]
    assert own.split("</article>")[0].count('<span class="lang">rust</span>') == 1
    tests = page.split('id="tests-table"', 1)[1]
    row = tests.split(f'data-test="{RUST_KILLER}"', 1)[1].split("</tr>")[0]
    assert 'data-value="rust">rust</td>' in row
    assert 'id="rust-gates"' in page
    must_kill = page.split('id="must-kill"', 1)[1].split("</table>")[0]
    assert f"<code>{RUST_KILLER}</code>" in must_kill
    assert '<span class="lang">rust test</span>' not in must_kill
    assert NOT_RUN_NOTE not in page


# --- a real Rust phase run --------------------------------------------------


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A real Rust phase over the ring crate with a weakened test (one survivor)."""
    require_tools()
    weak = RING_TESTS.replace("    assert!(is_ready());\n", "")
    root = make_ring(tmp_path_factory.mktemp("ring"), weak)
    run = run_phase(root)
    assert run.returncode == 1, run.stdout + run.stderr
    # The ring project has no Python phase: an empty Python result file
    # (through the public type) stands for it.
    empty = Results(RESULTS_SCHEMA, "2026-01-02T00:00:00+00:00", {}, "", {}, [], [], [], {}, [])
    save_results(empty, root)
    return root


def test_real_rust_run_joins_every_report(
    ring_run: pathlib.Path,
    tmp_path: pathlib.Path,
    validator: jsonschema.Draft7Validator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "ring"
    shutil.copytree(ring_run, root, ignore=shutil.ignore_patterns("target"))
    assert main(["--root", str(root)]) == 0
    report, summary, page = _report(root)
    assert not list(validator.iter_errors(report))
    rust = json.loads((root / "results/rust.json").read_text(encoding="utf-8"))
    entry = report["files"]["ring/src/lib.rs"]
    assert entry["language"] == "rust"
    assert {m["id"] for m in entry["mutants"]} == {m["id"] for m in rust["mutants"]}
    survivor = next(m for m in entry["mutants"] if "is_ready -> bool with false" in m["id"])
    assert survivor["status"] == "Survived"
    line = survivor["location"]["start"]["line"]
    assert _source_line(root, "ring/src/lib.rs", line).strip() == "true"
    assert "ring::chunks_are_clamped" in {
        t["id"] for t in report["testFiles"]["ring/tests/ring.rs"]["tests"]
    }
    assert "| rust survivors | ❌ fail |" in summary
    assert f"`{survivor['id']}`: survived at `ring/src/lib.rs:{line}`" in summary
    assert 'data-file="ring/src/lib.rs" data-language="rust"' in page
    capsys.readouterr()
    assert main(["--root", str(root), "--annotations"]) == 0
    commands = capsys.readouterr().out.splitlines()
    assert any(c.startswith(f"::error file=ring/src/lib.rs,line={line},") for c in commands)


# --- in a real browser ------------------------------------------------------

RUST_FILE_PROBE = (
    """
var section = document.querySelector('section.file[data-file="rust_extension/src/pump.rs"]');
var rows = Array.prototype.slice.call(section.querySelectorAll("tr.line.has-mutants"));
var marked = rows.map(function (row) {
  var box = document.getElementById(row.dataset.mutants);
  return [Number(row.dataset.line),
          Array.prototype.slice.call(box.querySelectorAll("article.mutant")).map(
            function (a) { return a.dataset.id; }),
          Array.prototype.slice.call(row.querySelectorAll(".pill")).map(
            function (p) { return p.dataset.status + "=" + p.textContent; }),
          box.offsetParent !== null];
});
var tree = Array.prototype.slice.call(document.querySelectorAll("#tree li.file-entry")).map(
  function (li) { return [li.dataset.file, li.querySelector(".lang").textContent]; });
var overflow = (function () {
"""
    + NO_OVERFLOW
    + """
})();
return {language: section.dataset.language, marked: marked, tree: tree,
        keywords: section.querySelectorAll("td.src span.k").length, overflow: overflow};
"""
)


def test_browser_shows_the_rust_file_with_its_markers_within_1280_px(
    pump: tuple[pathlib.Path, RustConfig, Results], tmp_path: pathlib.Path
) -> None:
    chromium = browser.require_chromium()
    root, _, rust = pump
    assert main(["--root", str(root)]) == 0
    page = root / OUT / HTML_NAME
    state = browser.probe(chromium, page, RUST_FILE_PROBE, tmp_path / "profile")
    assert state["language"] == "rust"
    assert [PUMP, "rust"] in state["tree"]
    assert state["keywords"] > 100
    placed = {ident: line for line, ids, _, _ in state["marked"] for ident in ids}
    assert placed == {m.id: m.line_start for m in rust.mutants}
    for line, ids, pills, shown in state["marked"]:
        statuses = [m.status for m in rust.mutants if m.id in ids]
        assert shown == ("survived" in statuses), line
        for status in set(statuses):
            assert f"{status}={statuses.count(status)}" in pills
    overflow = state["overflow"]
    assert overflow["width"] == browser.WINDOW[0]
    assert overflow["offenders"] == []
    assert overflow["scroll"] <= overflow["width"]
    browser.screenshot(chromium, page, SCREENSHOTS / "report-rust.png", tmp_path / "shot")


def test_per_test_view_names_a_python_tests_kills_of_rust_mutants(
    pump: tuple[pathlib.Path, RustConfig, Results],
) -> None:
    root, _, rust = pump
    text = render_markdown(make_results(root), stale=[], root=root, full=True, rust=rust)
    tests = text.split("### Tests", 1)[1]
    python_row = tests.split(f"`{NONBLOCKING_KILLER}`", 1)[1].split("\n", 1)[0]
    assert python_row.split("|")[1:4] == [" python ", " 1 ", " 1 "]
    assert "killed by a Python test: 1 rust mutant (cross-language)" in python_row
    rust_row = tests.split(f"`{RUST_KILLER}`", 1)[1].split("\n", 1)[0]
    assert rust_row.split("|")[1:4] == [" rust ", " 3 ", " 3 "]
    assert "cross-language" not in rust_row


def test_capped_annotations_keep_the_rust_survivor(
    pump: tuple[pathlib.Path, RustConfig, Results],
) -> None:
    root, _, rust = pump
    python = make_results(root)
    change = mutate("x + 1", "+ 1", "* 1")
    python.mutants.extend(mutmut(str(100 + n), "unused", change, "survived") for n in range(60))
    commands = workflow_commands(combine(python, rust), limit=6)
    operator = _named(rust, "replace || with &&")
    assert any(f"file={PUMP},line={operator.line_start}," in c for c in commands[:6])
    assert commands[-1].startswith("::notice")
