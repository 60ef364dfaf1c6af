"""The Markdown summary names the right mutants, killers and verdicts."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest

from mutation.report_markdown import (
    IDLE_TEST_NOTE,
    PR_LIMIT,
    REVIEW_TESTS_NOTE,
    cell,
    code,
    render_markdown,
)
from mutation.results import Results
from mutation.tests.factories import (
    BACKEND,
    FALLBACK_MESSAGE,
    FALLBACK_TEST,
    IDLE_TEST,
    LT_AMP_LINE,
    REPLAY,
    RUST_TEST,
    STREAMS,
    add_rust,
    make_results,
    write_project,
)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path)


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


def sections(text: str) -> dict[str, str]:
    """Split on ``### `` headings: ``{heading: body}``."""
    found: dict[str, str] = {}
    for chunk in text.split("\n### ")[1:]:
        heading, _, body = chunk.partition("\n")
        found[heading] = body
    return found


def row(body: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``."""
    for line in body.splitlines():
        if line.startswith(f"| {first_cell} |"):
            cells = line.replace("\\|", "\x00").strip("|").split("|")
            return [c.strip().replace("\x00", "|") for c in cells]
    msg = f"no row for {first_cell}"
    raise AssertionError(msg)


def survivor_blocks(body: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    for chunk in body.split("#### ")[1:]:
        ident = chunk.split("`")[1]
        blocks[ident] = chunk
    return blocks


def test_module_scores_against_thresholds(results: Results, project: pathlib.Path) -> None:
    body = sections(render_markdown(results, stale=[], root=project))["Module scores (mutmut)"]
    backend = row(body, f"`{BACKEND}`")
    assert backend[1:4] == ["25.0%", "90.0%", "❌ fail"]
    streams = row(body, f"`{STREAMS}`")
    assert streams[1:4] == ["95.0%", "90.0%", "✅ pass"]


def test_gate_verdicts(results: Results, project: pathlib.Path) -> None:
    text = render_markdown(results, stale=[], root=project)
    assert text.startswith("## Mutation testing: FAILED")
    body = sections(text)["Gates"]
    assert row(body, "must-kill catalogue")[1:] == [
        "❌ fail",
        "env-var-ignored survived",
    ]
    assert row(body, f"mutmut score {BACKEND}")[1] == "❌ fail"


def test_survivors_come_before_the_killed_evidence(results: Results, project: pathlib.Path) -> None:
    headings = [
        line
        for line in render_markdown(results, stale=[], root=project).splitlines()
        if line.startswith("### ")
    ]
    assert headings[:4] == [
        "### Gates",
        "### Module scores (mutmut)",
        "### Must-kill catalogue",
        "### Survivors (6)",
    ]
    assert headings[4] == "### Must-kill evidence"


def test_must_kill_table_and_evidence(results: Results, project: pathlib.Path) -> None:
    found = sections(render_markdown(results, stale=[], root=project))
    body = found["Must-kill catalogue"] + found["Must-kill evidence"]
    killed = row(body, "`fallback-flipped`")
    assert killed[1] == "A missing extension falls back to the Python pump"
    assert killed[2] == "✅ killed"
    assert killed[3] == f"`{FALLBACK_TEST}`"
    survived = row(body, "`env-var-ignored`")
    assert survived[1:] == ["CUPRUM_STREAM_BACKEND is honoured", "❌ survived", "none"]
    evidence = body.split("<details>")[1]
    assert "<code>fallback-flipped</code>" in evidence
    assert f"```text\n{FALLBACK_MESSAGE}\n```" in evidence
    assert f"```sh\n{REPLAY}\n```" in evidence
    assert '+    if name == "rust" or _available():' in evidence
    assert "No test killed this mutant." in body.split("<details>")[2]


def test_survivors_with_diff_and_source(results: Results, project: pathlib.Path) -> None:
    body = sections(render_markdown(results, stale=[], root=project))["Survivors (6)"]
    blocks = survivor_blocks(body)
    expected = {
        m.id for m in results.mutants if m.status in {"survived", "timeout", "no_tests", "error"}
    }
    assert set(blocks) == expected
    killed = [m.id for m in results.mutants if m.status in {"killed", "excused"}]
    assert not set(killed) & set(blocks)
    lt = blocks["cuprum._backend.x__available__mutmut_1"]
    assert f"```diff\n--- a/{BACKEND}" in lt
    assert f"\n-{LT_AMP_LINE}\n" in lt
    assert "\n+" + LT_AMP_LINE.replace("< 20", "<= 20") + "\n" in lt
    assert f"```python\n15 | {LT_AMP_LINE}\n```" in lt
    assert "must-kill survived" in blocks["env-var-ignored"]
    assert "Detail: ImportError: x" in blocks["cuprum._backend.x_select_backend__mutmut_4"]
    assert ": timeout at" in blocks["cuprum._backend.x_select_backend__mutmut_3"]
    assert ": no tests at" in blocks["cuprum._backend.x_unused__mutmut_1"]


def test_survivor_limit(results: Results, project: pathlib.Path) -> None:
    body = sections(render_markdown(results, stale=[], root=project, limit=2))["Survivors (6)"]
    assert len(survivor_blocks(body)) == 2
    assert "...and 4 more" in body


def test_unreadable_source_falls_back_to_original(results: Results, project: pathlib.Path) -> None:
    (project / BACKEND).unlink()
    text = render_markdown(results, stale=[], root=project)
    assert f"Original (source file unreadable):\n\n```python\n{LT_AMP_LINE}\n```" in text


def test_excused_with_reasons(results: Results, project: pathlib.Path) -> None:
    body = sections(render_markdown(results, stale=[], root=project))["Excused (1)"]
    assert row(body, "`cuprum._backend.x_unused__mutmut_2`")[1:] == [
        f"`{BACKEND}:19`",
        "equivalent: nothing calls it",
    ]


def test_per_test_table_flags_idle_tests(results: Results, project: pathlib.Path) -> None:
    body = sections(render_markdown(results, stale=[], root=project))["Tests"]
    assert row(body, f"`{RUST_TEST}`")[1:] == ["python", "1", "1", ""]
    assert row(body, f"`{FALLBACK_TEST}`")[1:] == ["python", "1", "1", ""]
    assert row(body, f"`{IDLE_TEST}`")[1:] == ["python", "0", "0", IDLE_TEST_NOTE]
    assert "worth a reviewer's look" in IDLE_TEST_NOTE


def test_a_review_does_not_call_a_test_idle(results: Results, project: pathlib.Path) -> None:
    results.selection = ["cuprum/_backend.py:_parse_backend_value"]
    body = sections(render_markdown(results, stale=[], root=project))["Tests"]
    assert body.lstrip().startswith(REVIEW_TESTS_NOTE)
    assert row(body, f"`{IDLE_TEST}`")[1:] == ["python", "0", "0", ""]
    assert row(body, f"`{RUST_TEST}`")[1:] == ["python", "1", "1", ""]


def test_stale_banner_first(results: Results, project: pathlib.Path) -> None:
    text = render_markdown(results, stale=[BACKEND, "setup.cfg"], root=project)
    first, rest = text.split("\n", 1)
    assert "STALE RESULTS" in first
    banner = rest.split("\n\n", 1)[0]
    assert f"`{BACKEND}`" in banner
    assert "`setup.cfg`" in banner
    assert "STALE" not in render_markdown(results, stale=[], root=project)


def test_all_killed_says_so(results: Results, project: pathlib.Path) -> None:
    results.mutants = [m for m in results.mutants if m.status == "killed"]
    text = render_markdown(results, stale=[], root=project)
    assert "### Survivors (0)\n\nEvery mutant in scope was killed or excused." in text
    assert "### Excused" not in text


def test_cell_and_code_escaping() -> None:
    assert cell("a | b\nc") == "a \\| b c"
    assert cell("<script>x</script> 1 < 2 & 3") == "&lt;script>x&lt;/script> 1 < 2 & 3"
    assert cell("&amp;") == "&amp;amp;"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert code("p|q") == "`p\\|q`"


def test_must_kill_table_names_three_killers_and_counts_the_rest(
    results: Results, project: pathlib.Path
) -> None:
    from mutation.results import Killer

    must_kill = next(m for m in results.mutants if m.must_kill and m.status == "killed")
    must_kill.killers = [
        Killer(test=f"tests/test_x.py::test_{n}", message="boom") for n in range(5)
    ]
    text = render_markdown(results, stale=[], root=project)
    row = next(line for line in text.splitlines() if line.startswith(f"| `{must_kill.id}`"))
    assert "test_0" in row
    assert "test_2" in row
    assert "test_3" not in row
    assert row.rstrip().endswith("(+2 more) |")
    evidence = sections(text)["Must-kill evidence"]
    # The PR-sized evidence block names three killers and counts the rest...
    assert "- `tests/test_x.py::test_2`" in evidence
    assert "- `tests/test_x.py::test_3`" not in evidence
    assert "- ...and 2 more (see the HTML report)" in evidence
    # ...the full one lists them all.
    full = render_markdown(results, stale=[], root=project, full=True)
    assert "- `tests/test_x.py::test_4`" in full


def _crowd(results: Results, survivors: int, must_kill: int, unkilled_every: int = 50) -> Results:
    """Thousands of mutants with long diffs, names and messages."""
    # Imported here: pytest would try to collect a module-level TestRecord.
    from mutation.results import Killer, TestRecord

    template = next(m for m in results.mutants if m.id == "cuprum._backend.x__available__mutmut_1")
    catalogue = next(m for m in results.mutants if m.id == "fallback-flipped")
    long_diff = template.diff + "".join(f" context line {n}\n" for n in range(60))
    for n in range(survivors):
        results.mutants.append(
            dataclasses.replace(
                template,
                id=f"cuprum._backend.x__available__mutmut_{1000 + n}",
                diff=long_diff,
                tests=[f"tests/test_many.py::test_{'t' * 80}_{k}" for k in range(12)],
            )
        )
    for n in range(must_kill):
        results.mutants.append(
            dataclasses.replace(
                catalogue,
                id=f"claim-{n}",
                status="survived" if n % unkilled_every == 0 else "killed",
                killers=[Killer(f"tests/test_k.py::test_{k}", "E  " + "m" * 400) for k in range(4)],
            )
        )
    for n in range(400):
        results.tests.append(TestRecord(f"tests/test_idle.py::test_{'i' * 60}_{n}", "f", 0, 0))
    return results


def test_pull_request_summary_fits_whatever_the_number_of_mutants(
    results: Results, project: pathlib.Path
) -> None:
    _crowd(results, survivors=3000, must_kill=300)
    text = render_markdown(results, stale=[BACKEND], root=project)
    assert len(text) < PR_LIMIT
    found = sections(text)
    assert "Gates" in found
    assert "Module scores (mutmut)" in found
    table = found["Must-kill catalogue"]
    # Every unkilled must-kill row is there, whatever is cut.
    for n in range(0, 300, 50):
        assert row(table, f"`claim-{n}`")[2] == "❌ survived"
    body = found["Survivors (3012)"]
    blocks = survivor_blocks(body)
    assert 5 <= len(blocks) < 3012
    # Unkilled must-kill mutants come first, each with diff and covering tests.
    assert list(blocks)[:2] == ["env-var-ignored", "claim-0"]
    lt = blocks["cuprum._backend.x__available__mutmut_1"]
    assert "```diff" in lt
    assert f"Covering tests (fastest first): `{RUST_TEST}`, `{FALLBACK_TEST}`" in lt
    assert f"...and {3012 - len(blocks)} more; see `mutation-report.html`" in body
    assert "Full report: `mutation-report.html`" in text


def test_full_summary_keeps_everything(results: Results, project: pathlib.Path) -> None:
    _crowd(results, survivors=300, must_kill=60)
    text = render_markdown(results, stale=[], root=project, full=True)
    assert len(text) > PR_LIMIT
    blocks = survivor_blocks(sections(text)["Survivors (308)"])
    assert len(blocks) == 308
    assert "more; see" not in text
    assert text.count("<details>") == 62
    assert "more lines)" not in blocks["cuprum._backend.x__available__mutmut_1000"]


def test_unviable_mutants_are_listed_apart(results: Results, project: pathlib.Path) -> None:
    add_rust(results, project)
    text = render_markdown(results, stale=[], root=project)
    found = sections(text)
    unviable = found["Unviable (1, not scored)"]
    assert "rust_extension/src/pump.rs:6" in unviable
    rust = survivor_blocks(found["Survivors (7)"])
    gt = next(block for ident, block in rust.items() if "rust-gt" in ident)
    assert "```rust\n3 |     if chunk.len() > limit {\n```" in gt


@pytest.mark.parametrize(
    ("survivors", "must_kill", "unkilled_every"),
    [(0, 3000, 1), (0, 3000, 1000), (5000, 0, 1), (2000, 2000, 2)],
)
def test_summary_bound_holds_for_any_mix(
    results: Results, project: pathlib.Path, survivors: int, must_kill: int, unkilled_every: int
) -> None:
    _crowd(results, survivors=survivors, must_kill=must_kill, unkilled_every=unkilled_every)
    text = render_markdown(results, stale=[], root=project)
    assert len(text) < PR_LIMIT
    assert "### Gates" in text
    assert "### Module scores (mutmut)" in text
    found = sections(text)
    # Survivors always get room, even when the must-kill table is huge.
    assert len(survivor_blocks(next(v for k, v in found.items() if k.startswith("Survivors")))) >= 3
