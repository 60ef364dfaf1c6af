"""The HTML report: self-contained, escaped, and filtered in a real browser."""

from __future__ import annotations

import pathlib
import re

import pytest

from mutation.report_html import render_html
from mutation.results import Killer, Results
from mutation.tests import browser
from mutation.tests.factories import (
    BACKEND,
    BACKEND_SOURCE,
    EXPECTED_COUNTS,
    FALLBACK_MESSAGE,
    FALLBACK_TEST,
    IDLE_TEST,
    LT_AMP_LINE,
    REPLAY,
    RUST_FILE,
    RUST_TEST,
    STREAMS,
    add_rust,
    line_of,
    make_results,
    write_project,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "mutation" / "results" / "screenshots"
"""Where the screenshots are kept (CI keeps mutation/results/ as an artifact)."""


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path / "project")


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


@pytest.fixture
def chromium() -> str:
    return browser.require_chromium()


def _page(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    return page


def _load(
    chromium: str, tmp_path: pathlib.Path, page: pathlib.Path, suffix: str = ""
) -> browser.DomReader:
    dom = browser.dump_dom(chromium, page, suffix, tmp_path / "profile")
    return browser.read_dom(dom)


def test_page_is_self_contained(results: Results, project: pathlib.Path) -> None:
    text = render_html(results, project)
    assert "<link" not in text
    assert not re.search(r"<script[^>]*\bsrc\s*=", text)
    assert not re.search(r"""\b(?:src|href)\s*=\s*(?!["']?#)""", text)
    assert "http://" not in text
    assert "https://" not in text
    assert "@import" not in text
    assert "url(" not in text
    assert "default-src 'none'" in text


def test_source_and_diffs_are_escaped(results: Results, project: pathlib.Path) -> None:
    text = render_html(results, project)
    assert "<script>document.title" not in text
    assert "&lt;script&gt;document.title" in text
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in text
    assert "<b>&amp;</b>" not in text
    assert "&lt;= 20" in text


def test_every_mutant_is_inline_once(results: Results, project: pathlib.Path) -> None:
    text = render_html(results, project)
    for mutant in results.mutants:
        assert text.count(f'data-id="{mutant.id}"') >= 1
    assert text.count('class="mutant ') == len(results.mutants)


def test_missing_source_is_reported(results: Results, project: pathlib.Path) -> None:
    (project / BACKEND).unlink()
    text = render_html(results, project)
    assert "Source file unavailable." in text
    assert text.count('class="mutant ') == len(results.mutants)


def test_dom_shows_counts_and_escaped_text(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    page = _page(tmp_path, render_html(results, project))
    dom = _load(chromium, tmp_path, page)
    seen: dict[str, int] = {}
    for mutant in dom.mutants:
        seen[mutant.attrs["data-status"]] = seen.get(mutant.attrs["data-status"], 0) + 1
    assert seen == {k: v for k, v in EXPECTED_COUNTS.items() if v}
    assert dom.counts == {k: str(v) for k, v in {**EXPECTED_COUNTS, "unviable": 0}.items()}
    assert dom.visible_count == "Showing 10 of 10 mutants"
    assert not any("hidden" in m.attrs for m in dom.mutants)
    assert dom.title == "Mutation report"
    lines = [cell.text for cell in dom.source_cells]
    backend = BACKEND_SOURCE.splitlines()
    assert lines[: len(backend)] == backend
    assert lines[line_of(BACKEND_SOURCE, "< 20") - 1] == LT_AMP_LINE


@pytest.mark.parametrize(
    ("suffix", "shown"),
    [
        ("#status=survived", {"survived"}),
        ("?status=survived,timeout", {"survived", "timeout"}),
        ("#status=no_tests,error,excused", {"no_tests", "error", "excused"}),
    ],
)
def test_filter_from_url(
    chromium: str,
    results: Results,
    project: pathlib.Path,
    tmp_path: pathlib.Path,
    suffix: str,
    shown: set[str],
) -> None:
    page = _page(tmp_path, render_html(results, project))
    dom = _load(chromium, tmp_path, page, suffix)
    expected = sum(EXPECTED_COUNTS[s] for s in shown)
    assert dom.visible_count == f"Showing {expected} of 10 mutants"
    visible = {m.attrs["data-id"] for m in dom.mutants if "hidden" not in m.attrs}
    assert visible == {m.id for m in results.mutants if m.status in shown}
    for mutant in dom.mutants:
        is_hidden = "hidden" in mutant.attrs
        assert is_hidden == (mutant.attrs["data-status"] not in shown)


def test_stale_banner_opens_the_page(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    text = render_html(results, project, stale=[BACKEND, "tests/test_<x>.py"])
    page = _page(tmp_path, text)
    dom = _load(chromium, tmp_path, page)
    assert dom.body_first_id == "stale-banner"
    assert "STALE RESULTS" in dom.stale_text
    assert BACKEND in dom.stale_text
    assert "tests/test_<x>.py" in dom.stale_text
    assert dom.title.startswith("STALE")


def test_no_stale_banner_when_current(results: Results, project: pathlib.Path) -> None:
    assert "stale-banner" not in render_html(results, project)


def test_code_is_highlighted_by_pygments(results: Results, project: pathlib.Path) -> None:
    text = render_html(results, project)
    # Pygments' short classes: keyword "def", function name, string.
    assert '<span class="k">def</span>' in text
    assert '<span class="nf">select_backend</span>' in text
    assert ".hl .k {" in text


SURVIVOR_LINE = line_of(BACKEND_SOURCE, "< 20")
KILLED_LINE = line_of(BACKEND_SOURCE, 'if name == "rust"')

# JavaScript run in the loaded page (see browser.probe).
LINE_STATE = """
function line(n) {
  var row = document.querySelector("section.file[data-file='FILE'] tr.line[data-line='" + n + "']");
  var box = row.dataset.mutants ? document.getElementById(row.dataset.mutants) : null;
  var marker = row.querySelector("button.marker");
  var cards = box ? Array.prototype.slice.call(box.querySelectorAll("article.mutant")) : [];
  return {
    code: row.querySelector("td.src").textContent,
    pills: marker ? Array.prototype.slice.call(marker.querySelectorAll(".pill")).map(
      function (p) { return [p.dataset.status, p.textContent]; }) : [],
    markerShown: marker ? marker.offsetParent !== null : false,
    open: box ? box.offsetParent !== null : false,
    cards: cards.map(function (c) {
      return {id: c.dataset.id, shown: c.offsetParent !== null, text: c.textContent,
              unfolded: c.querySelector("details.card-body").open};
    })
  };
}
""".replace("FILE", BACKEND)


def test_survivor_line_is_marked_and_open_and_killed_line_folded(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    page = _page(tmp_path, render_html(results, project))
    state = browser.probe(
        chromium,
        page,
        LINE_STATE + f"return [line({SURVIVOR_LINE}), line({KILLED_LINE}), line(1)];",
        tmp_path / "profile",
    )
    survivor, killed, plain = state
    assert "< 20" in survivor["code"]
    assert survivor["pills"] == [["survived", "1"]]
    assert survivor["open"] is True
    assert [c["id"] for c in survivor["cards"]] == ["cuprum._backend.x__available__mutmut_1"]
    assert survivor["cards"][0]["shown"] is True
    assert survivor["cards"][0]["unfolded"] is True
    assert killed["pills"] == [["killed", "2"]]
    assert killed["markerShown"] is True
    assert killed["open"] is False
    assert plain["pills"] == []
    assert plain["cards"] == []


def test_clicking_a_marker_shows_each_mutants_evidence(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    page = _page(tmp_path, render_html(results, project))
    script = (
        LINE_STATE
        + f"""
    var row = document.querySelector("section.file[data-file='{BACKEND}'] tr.line[data-line='{KILLED_LINE}']");
    var marker = row.querySelector("button.marker");
    marker.scrollIntoView({{block: "center"}});
    var box = marker.getBoundingClientRect();
    var hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    var reachable = hit === marker || marker.contains(hit);
    hit.click();
    var opened = line({KILLED_LINE});
    marker.click();
    return {{reachable: reachable, opened: opened, closed: line({KILLED_LINE}),
             expanded: marker.getAttribute("aria-expanded")}};
    """
    )
    state = browser.probe(chromium, page, script, tmp_path / "profile")
    assert state["reachable"] is True
    opened = state["opened"]
    assert opened["open"] is True
    cards = {c["id"]: c for c in opened["cards"]}
    assert set(cards) == {"cuprum._backend.x_select_backend__mutmut_1", "fallback-flipped"}
    assert all(c["shown"] and c["unfolded"] for c in cards.values())
    flipped = cards["fallback-flipped"]["text"]
    assert "killed" in flipped
    assert FALLBACK_TEST in flipped
    assert FALLBACK_MESSAGE in flipped
    assert "Covering tests" in cards["cuprum._backend.x_select_backend__mutmut_1"]["text"]
    assert RUST_TEST in cards["cuprum._backend.x_select_backend__mutmut_1"]["text"]
    assert REPLAY in flipped
    assert (
        "mutmut run 'cuprum._backend.x_select_backend__mutmut_1'"
        in (cards["cuprum._backend.x_select_backend__mutmut_1"]["text"])
    )
    assert state["closed"]["open"] is False
    assert state["expanded"] == "false"


FILTER_STATE = """
function shown(selector) {
  return Array.prototype.slice.call(document.querySelectorAll(selector)).filter(
    function (el) { return el.offsetParent !== null; }).map(function (el) {
      return el.dataset.id || el.dataset.file || el.dataset.line; });
}
function untick(kind, value) {
  var box = document.querySelector("input." + kind + "-filter[value='" + value + "']");
  box.click();
}
"""


def test_filters_hide_what_they_should(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    add_rust(results, project)
    page = _page(tmp_path, render_html(results, project))
    script = (
        FILTER_STATE
        + f"""
    var before = shown("button.marker").length;
    untick("status", "survived");
    var noSurvivors = {{cards: shown("article.mutant"), lines: shown("tr.line.has-mutants button.marker"),
      count: document.getElementById("visible-count").textContent}};
    untick("status", "survived");
    untick("origin", "catalogue");
    var noCatalogue = shown("article.mutant");
    untick("origin", "catalogue");
    untick("module", "{BACKEND}");
    var noBackend = {{sections: shown("section.file"), cards: shown("article.mutant")}};
    return {{before: before, noSurvivors: noSurvivors, noCatalogue: noCatalogue, noBackend: noBackend}};
    """
    )
    state = browser.probe(chromium, page, script, tmp_path / "profile")
    survivors = {m.id for m in results.mutants if m.status == "survived"}
    assert "cuprum._backend.x__available__mutmut_1" in survivors
    assert not survivors & set(state["noSurvivors"]["cards"])
    assert (
        state["noSurvivors"]["count"]
        == f"Showing {len(results.mutants) - len(survivors)} of {len(results.mutants)} mutants"
    )
    # The survivor's line has no other mutant: its marker goes too.
    assert state["before"] > len(state["noSurvivors"]["lines"])
    catalogue = {m.id for m in results.mutants if m.origin == "catalogue"}
    assert not catalogue & set(state["noCatalogue"])
    assert {"cuprum._backend.x__available__mutmut_1"} <= set(state["noCatalogue"])
    assert state["noBackend"]["sections"] == [STREAMS, RUST_FILE]
    assert all(i.startswith(RUST_FILE) for i in state["noBackend"]["cards"])
    assert state["noBackend"]["cards"]


def test_file_tree_lists_every_mutated_file_with_its_language(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    add_rust(results, project)
    page = _page(tmp_path, render_html(results, project))
    script = """
    return Array.prototype.slice.call(document.querySelectorAll("#tree li.file-entry")).map(
      function (li) {
        var target = document.querySelector(li.querySelector("a").getAttribute("href"));
        return [li.dataset.file, li.querySelector(".lang").textContent,
                target.dataset.file, target.dataset.language,
                Array.prototype.slice.call(li.querySelectorAll(".pill")).map(
                  function (p) { return p.dataset.status + "=" + p.textContent; })];
      });
    """
    tree = browser.probe(chromium, page, script, tmp_path / "profile")
    assert [row[0] for row in tree] == [BACKEND, STREAMS, RUST_FILE]
    by_file = {row[0]: row for row in tree}
    assert by_file[RUST_FILE][1:4] == ["rust", RUST_FILE, "rust"]
    assert by_file[BACKEND][1:4] == ["python", BACKEND, "python"]
    assert by_file[RUST_FILE][4] == ["survived=1", "unviable=1"]
    assert "survived=3" in by_file[BACKEND][4]


def _stress(results: Results) -> Results:
    """Long names and messages, as real runs have them."""
    long_test = (
        "tests/behaviour/" + "very_long_directory_name/" * 6 + "test_x.py::test_" + "y" * 120
    )
    killed = next(m for m in results.mutants if m.status == "killed")
    killed.killers.append(Killer(long_test, "E   AssertionError: " + "x" * 900))
    killed.tests = [long_test, *killed.tests]
    killed.detail = "z" * 700
    return results


NO_OVERFLOW = """
Array.prototype.slice.call(document.querySelectorAll("button.marker")).forEach(function (m) {
  if (m.getAttribute("aria-expanded") !== "true") { m.click(); }
});
Array.prototype.slice.call(document.querySelectorAll("details")).forEach(function (d) {
  d.open = true;
});
var width = document.documentElement.clientWidth;
var offenders = [];
Array.prototype.slice.call(document.body.querySelectorAll("*")).forEach(function (el) {
  var box = el.getBoundingClientRect();
  if (box.width === 0 || (box.right <= width + 0.5 && box.left >= -0.5)) { return; }
  for (var up = el.parentElement; up && up !== document.body; up = up.parentElement) {
    if (getComputedStyle(up).overflowX !== "visible") {
      if (up.getBoundingClientRect().right <= width + 0.5) { return; }
      break;
    }
  }
  offenders.push(el.tagName + "." + el.className + " right=" + Math.round(box.right));
});
return {width: width, scroll: document.documentElement.scrollWidth,
        opened: document.querySelectorAll("tr.mutants:not([hidden])").length,
        offenders: offenders.slice(0, 10)};
"""


def test_nothing_is_wider_than_a_1280_px_window(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    add_rust(_stress(results), project)
    page = _page(tmp_path, render_html(results, project))
    state = browser.probe(chromium, page, NO_OVERFLOW, tmp_path / "profile")
    assert state["width"] == browser.WINDOW[0]
    assert state["opened"] == len({(m.file, m.line_start) for m in results.mutants})
    assert state["offenders"] == []
    assert state["scroll"] <= state["width"]


def test_the_overflow_check_can_fail(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    text = render_html(results, project).replace(
        "</main>", '<div style="width: 1500px">too wide</div></main>'
    )
    state = browser.probe(chromium, _page(tmp_path, text), NO_OVERFLOW, tmp_path / "profile")
    assert state["offenders"]


def test_per_test_view_sorts_and_flags_idle_tests(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    page = _page(tmp_path, render_html(results, project))
    script = """
    function order() {
      return Array.prototype.slice.call(document.querySelectorAll("#tests-table tbody tr")).map(
        function (tr) { return [tr.dataset.test, tr.cells[1].textContent, tr.className]; });
    }
    var initial = order();
    var kills = document.querySelectorAll("#tests-table th")[1];
    kills.click();
    var ascending = order();
    kills.click();
    return {initial: initial, ascending: ascending, descending: order(),
            sort: kills.getAttribute("aria-sort")};
    """
    state = browser.probe(chromium, page, script, tmp_path / "profile")
    initial = state["initial"]
    assert [row[0] for row in initial][:2] == [FALLBACK_TEST, RUST_TEST] or [
        row[0] for row in initial
    ][:2] == [RUST_TEST, FALLBACK_TEST]
    idle = [row for row in initial if "idle" in row[2]]
    assert [row[0] for row in idle] == [IDLE_TEST]
    assert [int(row[1]) for row in state["ascending"]] == sorted(int(r[1]) for r in initial)
    assert state["ascending"][0][0] == IDLE_TEST
    assert state["descending"][-1][0] == IDLE_TEST
    assert state["sort"] == "descending"


def test_screenshot_artifact_is_kept(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    add_rust(results, project)
    page = _page(tmp_path, render_html(results, project))
    out = browser.screenshot(chromium, page, SCREENSHOTS / "report-fixture.png", tmp_path / "p")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_needs_review_index_links_every_survivor_card(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    page = _page(tmp_path, render_html(results, project))
    script = """
    return Array.prototype.slice.call(document.querySelectorAll("#needs-review li a")).map(
      function (a) {
        var card = document.querySelector(a.getAttribute("href"));
        return [a.textContent, card.dataset.id, card.offsetParent !== null];
      });
    """
    links = browser.probe(chromium, page, script, tmp_path / "profile")
    review = {
        m.id: m for m in results.mutants if m.status in {"survived", "timeout", "no_tests", "error"}
    }
    assert links[0][1] == "env-var-ignored"
    assert {link[1] for link in links} == set(review)
    for text, ident, shown in links:
        assert text.startswith(f"{review[ident].file}:{review[ident].line_start}")
        assert shown is True


def test_a_killed_mutant_beside_a_survivor_is_folded(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # Put a killed mutant on the survivor's line.
    killed = next(
        m for m in results.mutants if m.id == "cuprum._backend.x_select_backend__mutmut_1"
    )
    survivor = next(m for m in results.mutants if m.id == "cuprum._backend.x__available__mutmut_1")
    killed.line_start = killed.line_end = survivor.line_start
    killed.column_start = killed.column_end = 0
    page = _page(tmp_path, render_html(results, project))
    state = browser.probe(
        chromium, page, LINE_STATE + f"return line({SURVIVOR_LINE});", tmp_path / "profile"
    )
    cards = {c["id"]: c for c in state["cards"]}
    assert state["open"] is True
    assert state["pills"] == [["survived", "1"], ["killed", "1"]]
    assert cards[survivor.id]["unfolded"] is True
    assert cards[killed.id]["shown"] is True
    assert cards[killed.id]["unfolded"] is False


def test_files_without_a_shown_mutant_are_hidden(
    chromium: str, results: Results, project: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    add_rust(results, project)
    page = _page(tmp_path, render_html(results, project))
    script = FILTER_STATE + 'return shown("section.file");'
    survivors = browser.probe(chromium, page, script, tmp_path / "p1", "#status=survived")
    # STREAMS has no mutant at all: it stays, as a scored module.
    assert survivors == [BACKEND, STREAMS, RUST_FILE]
    unviable = browser.probe(chromium, page, script, tmp_path / "p2", "#status=unviable")
    assert unviable == [STREAMS, RUST_FILE]
