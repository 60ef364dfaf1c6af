"""Mutant locations: computed from the diff, proven over a real mutmut run."""

from __future__ import annotations

import dataclasses
import difflib
import json
import pathlib
import subprocess
import sys

import pytest

from mutation.catalogue import apply_mutant, load_catalogue
from mutation.config import load_config
from mutation.diff_text import DiffError
from mutation.locations import (
    Location,
    LocationError,
    locate_in_diff,
    location_problems,
    parse_hunks,
    removed_lines,
    replacement_of,
    require_valid_locations,
)
from mutation.mutmut_source import generate
from mutation.report_elements import build_elements_report
from mutation.report_html import render_html
from mutation.results import RESULTS_SCHEMA, MutantResult, Results
from mutation.tests import browser

REPO = pathlib.Path(__file__).resolve().parents[2]

# Long docstrings push every function's code well below its first line: the
# old computation (function start + offset inside the hunk) put mutants
# inside these docstrings.  A leading comment, a method with a dedented body
# and a docstring whose continuation lines mutmut does not dedent cover the
# ways mutmut's per-function diffs differ from the file.
FIXTURE_MODULE = '''\
"""A small module whose functions carry long docstrings."""

from __future__ import annotations


def clamp(value: int, low: int, high: int) -> int:
    """Clamp ``value`` into ``[low, high]``.

    Parameters
    ----------
    value
        The number.
    low
        The lower bound.
    high
        The upper bound.

    Returns
    -------
    int
        The clamped number.
    """
    if value < low:
        return low
    if value > high:
        return high
    return value


# A comment above a function is part of mutmut's diff of it.
def describe(name: str) -> str:
    """Describe ``name``.

    Returns
    -------
    str
        A greeting.
    """
    text = "hello " + name
    return text.upper() if name == "X" else text


class Box:
    """A box."""

    def __init__(self, size: int) -> None:
        """Make a box.

        More text here.
        """
        self.size = size

    def grow(self, by: int = 1) -> int:
        """Grow the box.

            Indented docstring text, kept as is by mutmut.
        """
        self.size = self.size + by
        return self.size

    @staticmethod
    def double(x: int) -> int:
        """Double it (mutmut mutates a single ``@staticmethod``).

        Twice.
        """
        return x * 2
'''

FIXTURE_TESTS = """\
from pkg.shapes import Box, clamp, describe


def test_clamp() -> None:
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0


def test_describe() -> None:
    assert describe("a") == "hello a"


def test_box() -> None:
    assert Box(1).grow() == 2
    assert Box.double(2) == 4
"""

FIXTURE_SETUP = """\
[mutmut]
source_paths = pkg
only_mutate =
    pkg/shapes.py
pytest_add_cli_args_test_selection =
    tests/test_shapes.py
also_copy =
    tests
use_git_change_detection = false
"""

FILE = "pkg/shapes.py"


@pytest.fixture(scope="module")
def mutmut_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, list[MutantResult]]:
    """Run real mutmut 3.8.1 over the fixture, collect its mutants the kit's way."""
    pristine = tmp_path_factory.mktemp("pristine")
    for rel, text in (
        (FILE, FIXTURE_MODULE),
        ("pkg/__init__.py", ""),
        ("tests/test_shapes.py", FIXTURE_TESTS),
        ("setup.cfg", FIXTURE_SETUP),
    ):
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_text(text, encoding="utf-8")
    workspace = tmp_path_factory.mktemp("work") / "copy"
    subprocess.run(["cp", "-r", str(pristine), str(workspace)], check=True)
    completed = subprocess.run(
        [str(pathlib.Path(sys.executable).with_name("mutmut")), "run", "--max-children", "2"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    # mutmut's own verdicts (exit code 0 under a mutant: it survived), read
    # before the kit regenerates the mutants, so the pages below show survivors.
    verdicts: dict[str, int] = {}
    for meta in (workspace / "mutants").rglob("*.meta"):
        verdicts.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    mutants = [
        dataclasses.replace(m.result, status="survived" if verdicts[m.result.id] == 0 else "killed")
        for m in generate(workspace, 2)[1]
    ]
    return pristine, mutants


def test_real_mutmut_mutants_sit_on_the_lines_their_diff_removes(
    mutmut_run: tuple[pathlib.Path, list[MutantResult]],
) -> None:
    _, mutants = mutmut_run
    lines = FIXTURE_MODULE.splitlines()
    assert len(mutants) >= 12
    assert {m.function for m in mutants} >= {
        "clamp",
        "describe",
        "Box.__init__",
        "Box.grow",
        "Box.double",
    }
    for mutant in mutants:
        first_removed = removed_lines(mutant.diff)[0]
        reported = lines[mutant.line_start - 1]
        assert reported.strip() == first_removed.strip(), (mutant.id, mutant.line_start)
        assert location_problems(mutant, FIXTURE_MODULE) == []
        # The columns select code (never a docstring line), and it differs
        # from what replaces it.
        selected = reported[mutant.column_start - 1 : mutant.column_end]
        assert selected.strip(), mutant.id
        assert selected != replacement_of(mutant.diff), mutant.id


def test_real_mutmut_columns_select_the_mutated_operator(
    mutmut_run: tuple[pathlib.Path, list[MutantResult]],
) -> None:
    _, mutants = mutmut_run
    lines = FIXTURE_MODULE.splitlines()
    seen: dict[tuple[str, str], int] = {}
    for m in mutants:
        text = lines[m.line_start - 1][m.column_start - 1 : m.column_end]
        seen[(text, replacement_of(m.diff))] = m.line_start
    assert seen[("<", "<=")] == lines.index("    if value < low:") + 1
    assert seen[("+", "-")] == lines.index("        self.size = self.size + by") + 1
    assert seen[("1", "2")] == lines.index("    def grow(self, by: int = 1) -> int:") + 1
    assert seen[("==", "!=")] == lines.index('    return text.upper() if name == "X" else text') + 1
    assert seen[("*", "/")] == lines.index("        return x * 2") + 1


def test_elements_report_locations_match_the_results(
    mutmut_run: tuple[pathlib.Path, list[MutantResult]],
) -> None:
    pristine, mutants = mutmut_run
    report = build_elements_report(_results(mutants), pristine)
    entries = {m["id"]: m for m in report["files"][FILE]["mutants"]}
    lines = FIXTURE_MODULE.splitlines()
    for mutant in mutants:
        location = entries[mutant.id]["location"]
        assert location["start"] == {"line": mutant.line_start, "column": mutant.column_start}
        assert location["end"] == {"line": mutant.line_end, "column": mutant.column_end + 1}
        # Applying the report's replacement to its range reproduces the mutant's line.
        if mutant.line_start == mutant.line_end:
            line = lines[mutant.line_start - 1]
            mutated = (
                line[: mutant.column_start - 1]
                + entries[mutant.id]["replacement"]
                + line[mutant.column_end :]
            )
            added = [t for h in parse_hunks(mutant.diff) for tag, t in h.lines if tag == "+"]
            assert mutated.strip() == added[0].strip(), mutant.id


def test_every_catalogue_entry_sits_on_the_line_its_diff_removes() -> None:
    config = load_config(REPO)
    catalogue = load_catalogue(REPO / config.catalogue, config.targets)
    for entry in catalogue:
        source = (REPO / entry.file).read_text(encoding="utf-8")
        applied = apply_mutant(entry, source)
        where = locate_in_diff(applied.diff, source, file=entry.file)
        lines = source.splitlines()
        assert lines[where.line_start - 1].strip() == removed_lines(applied.diff)[0].strip()
        mutant = dataclasses.replace(
            _stub(entry.file, applied.diff),
            line_start=where.line_start,
            line_end=where.line_end,
            column_start=where.column_start,
            column_end=where.column_end,
        )
        assert location_problems(mutant, source) == [], entry.id


def _stub(file: str, diff: str, line: int = 1) -> MutantResult:
    return MutantResult(
        id="m",
        origin="catalogue",
        file=file,
        function="f",
        line_start=line,
        line_end=line,
        original="",
        replacement="",
        diff=diff,
        status="killed",
    )


SOURCE = "def f(a):\n    '''Doc.\n\n    More.\n    '''\n    x = a + 1\n    return x\n"


def _diff(old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), "a/f.py", "b/f.py"
        )
    )


def test_whole_file_diff_gives_line_and_columns() -> None:
    diff = _diff(SOURCE, SOURCE.replace("a + 1", "a - 1"))
    where = locate_in_diff(diff, SOURCE, file="f.py")
    assert (where.line_start, where.line_end) == (6, 6)
    assert SOURCE.splitlines()[5][where.column_start - 1 : where.column_end] == "+"
    assert where.replacement == "-"


def test_a_multi_line_change_spans_its_lines() -> None:
    mutated = SOURCE.replace("x = a + 1\n    return x", "x = a\n    return None")
    where = locate_in_diff(_diff(SOURCE, mutated), SOURCE, file="f.py")
    assert (where.line_start, where.line_end) == (6, 7)


def test_a_pure_deletion_and_insertion_are_located() -> None:
    deleted = locate_in_diff(
        _diff(SOURCE, SOURCE.replace("    x = a + 1\n", "")), SOURCE, file="f.py"
    )
    assert (deleted.line_start, deleted.column_start) == (6, 1)
    inserted = locate_in_diff(
        _diff(SOURCE, SOURCE.replace("    return x\n", "    return x\n    pass\n")),
        SOURCE,
        file="f.py",
    )
    assert inserted.line_start == 7


def test_a_diff_that_is_not_in_the_file_is_refused() -> None:
    other = SOURCE.replace("a + 1", "a * 2")
    diff = _diff(other, other.replace("a * 2", "a * 3"))
    with pytest.raises(LocationError, match="does not occur in the unmutated file"):
        locate_in_diff(diff, SOURCE, file="f.py")


def test_a_change_outside_the_function_is_refused() -> None:
    diff = _diff(SOURCE, SOURCE.replace("a + 1", "a - 1"))
    with pytest.raises(LocationError, match="within lines 1-5"):
        locate_in_diff(diff, SOURCE, file="f.py", within=(1, 5))


def test_the_check_refuses_a_mutant_reported_inside_its_docstring() -> None:
    # The bug: the hunk offset added to the function's first line.
    diff = _diff(SOURCE, SOURCE.replace("a + 1", "a - 1"))
    wrong = _stub("f.py", diff, line=3)
    problems = location_problems(wrong, SOURCE)
    assert len(problems) == 1
    assert "line 3 holds ''" in problems[0]
    with pytest.raises(LocationError, match="1 mutant locations are wrong"):
        require_valid_locations([wrong], lambda _: SOURCE)
    right = dataclasses.replace(wrong, line_start=6, line_end=6, column_start=11, column_end=11)
    require_valid_locations([right], lambda _: SOURCE)


def test_the_check_refuses_columns_off_the_line_and_lines_off_the_file() -> None:
    diff = _diff(SOURCE, SOURCE.replace("a + 1", "a - 1"))
    base = _stub("f.py", diff, line=6)
    assert location_problems(dataclasses.replace(base, column_start=3), SOURCE) == [
        "mutant m (f.py:6): only one of column_start and column_end is known"
    ]
    off = dataclasses.replace(base, column_start=1, column_end=99)
    assert "column_end 99 is off line 6" in location_problems(off, SOURCE)[0]
    beyond = dataclasses.replace(base, line_start=40, line_end=40)
    assert "outside the file" in location_problems(beyond, SOURCE)[0]
    assert location_problems(base, None) == ["mutant m (f.py:6): the file cannot be read"]


def test_a_malformed_diff_is_refused() -> None:
    with pytest.raises(DiffError, match="not context, removal or addition"):
        parse_hunks("@@ -1,1 +1,1 @@\n?what\n")
    with pytest.raises(LocationError, match="malformed"):
        locate_in_diff("@@ -1,1 +1,1 @@\n?what\n", SOURCE, file="f.py")
    stub = _stub("f.py", "@@ -1,1 +1,1 @@\n?what\n")
    assert "its diff is malformed" in location_problems(stub, SOURCE)[0]
    with pytest.raises(LocationError, match="no hunk"):
        locate_in_diff("", SOURCE, file="f.py")


def test_real_run_page_marks_each_survivor_at_its_line(
    mutmut_run: tuple[pathlib.Path, list[MutantResult]], tmp_path: pathlib.Path
) -> None:
    chromium = browser.require_chromium()
    pristine, mutants = mutmut_run
    results = _results(mutants)
    page = tmp_path / "report.html"
    page.write_text(render_html(results, pristine), encoding="utf-8")
    script = """
    return Array.prototype.slice.call(document.querySelectorAll("tr.line.has-mutants")).map(
      function (row) {
        var box = document.getElementById(row.dataset.mutants);
        return [Number(row.dataset.line), row.querySelector("td.src").textContent,
                Array.prototype.slice.call(box.querySelectorAll("article.mutant")).map(
                  function (a) { return a.dataset.id; }),
                Array.prototype.slice.call(row.querySelectorAll(".pill")).map(
                  function (p) { return p.dataset.status + "=" + p.textContent; }),
                box.offsetParent !== null];
      });
    """
    rows = browser.probe(chromium, page, script, tmp_path / "profile")
    by_id = {m.id: m for m in mutants}
    placed = {ident: line for line, _, ids, _, _ in rows for ident in ids}
    assert placed == {m.id: m.line_start for m in mutants}
    for line, code, ids, pills, shown in rows:
        assert code == FIXTURE_MODULE.splitlines()[line - 1]
        assert not code.strip().startswith(('"""', "Parameters", "-----")), line
        survivors = [i for i in ids if by_id[i].status == "survived"]
        assert shown == bool(survivors)
        if survivors:
            assert f"survived={len(survivors)}" in pills
    assert any(by_id[i].status == "survived" for _, _, ids, _, _ in rows for i in ids)


def _results(mutants: list[MutantResult]) -> Results:
    return Results(
        schema=RESULTS_SCHEMA,
        created="2026-01-01T00:00:00+00:00",
        inputs={},
        inputs_digest="",
        phases={},
        modules=[],
        mutants=mutants,
        tests=[],
        coverage={},
        gates=[],
    )


def test_anchoring_diffs_in_sources_they_do_not_match_is_refused(
    mutmut_run: tuple[pathlib.Path, list[MutantResult]],
) -> None:
    # A mutant of the changed line, anchored in a file where that line differs,
    # must raise rather than land on a neighbouring line.
    _, mutants = mutmut_run
    changed = FIXTURE_MODULE.replace("if value < low:", "if low > value:")
    on_changed_line = [m for m in mutants if "if value < low:" in m.diff]
    assert on_changed_line, "the fixture yields mutants of the comparison"
    for mutant in on_changed_line:
        with pytest.raises(LocationError, match="does not occur in the unmutated file"):
            locate_in_diff(mutant.diff, changed, file=FILE, hunk_origin=1)


def test_a_reported_span_becomes_an_inclusive_location() -> None:
    # cargo-mutants reports spans with an exclusive end, like the elements schema.
    where = Location.from_span("src/lib.rs", (3, 18), (3, 19), replacement=">=")
    assert (where.line_start, where.line_end, where.column_start, where.column_end) == (
        3,
        3,
        18,
        18,
    )
    inclusive = Location.from_span("src/lib.rs", (3, 5), (4, 2), end_exclusive=False)
    assert (inclusive.column_start, inclusive.column_end) == (5, 2)
    empty = Location.from_span("src/lib.rs", (3, 5), (3, 5))
    assert empty.column_end == 5


@pytest.mark.parametrize(
    ("old", "new", "span", "replacement"),
    [
        ("if a is b:", "if a is not b:", "is ", "is not "),
        ("f(a)", "f(a, b)", "a", "a, b"),
        ("x == 1", "x != 1", "==", "!="),
        ("return x", "return None", "x", "None"),
    ],
)
def test_an_insertion_spans_the_token_before_it(
    old: str, new: str, span: str, replacement: str
) -> None:
    source = f"def f(a, b, x):\n    {old}\n"
    where = locate_in_diff(_diff(source, source.replace(old, new)), source, file="f.py")
    line = source.splitlines()[1]
    assert line[where.column_start - 1 : where.column_end] == span
    assert where.replacement == replacement
