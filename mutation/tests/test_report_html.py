"""The HTML report: self-contained, escaped, and filtered in a real browser."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

from mutation.report_html import render_html
from mutation.results import Results
from mutation.tests import browser
from mutation.tests.factories import (
    BACKEND,
    BACKEND_SOURCE,
    EXPECTED_COUNTS,
    LT_AMP_LINE,
    line_of,
    make_results,
    write_project,
)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path / "project")


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


@pytest.fixture
def chromium() -> str:
    found = browser.find_chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            # .ci/run installs Debian's chromium; without it the HTML report
            # would go untested in CI.
            pytest.fail(f"chromium missing in CI: {browser.MISSING_REASON}")
        pytest.skip(browser.MISSING_REASON)
    return found


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
    assert dom.counts == {k: str(v) for k, v in EXPECTED_COUNTS.items()}
    assert dom.visible_count == "Showing 10 of 10 mutants"
    assert not any("hidden" in m.attrs for m in dom.mutants)
    assert dom.title == "Mutation report"
    lines = [cell.text for cell in dom.source_cells]
    backend = BACKEND_SOURCE.splitlines()
    assert lines[: len(backend)] == backend
    assert lines[line_of(BACKEND_SOURCE, "< 20") - 1] == LT_AMP_LINE
    assert not any(cell.markup_inside for cell in dom.source_cells)


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
