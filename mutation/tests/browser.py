"""Headless Chromium for the HTML report tests, and a small DOM reader.

:func:`probe` drives the real page in a real browser: it appends a script to
a copy of the page that acts as a reviewer would (clicks a marker, unticks
a filter) and measures the laid-out page (element boxes at a 1280 px
window), then reads what the script found back from the dumped DOM.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import pathlib
import shutil
import subprocess
import typing as typ

CHROMIUM_NAMES = ("chromium", "chromium-browser")
MISSING_REASON = "headless Chromium is not installed (Debian/Ubuntu: apt-get install chromium)"


def find_chromium() -> str | None:
    """Return the Chromium executable, or ``None``."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """Return Chromium, skip the test without it, or fail in CI (``CI=true``)."""
    import os

    import pytest

    found = find_chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            # .ci/run installs Debian's chromium; without it the HTML report
            # would go untested in CI.
            pytest.fail(f"chromium missing in CI: {MISSING_REASON}")
        pytest.skip(MISSING_REASON)
    return found


WINDOW = (1280, 900)
"""The window a reviewer's browser has (width, height)."""


def _command(chromium: str, profile: pathlib.Path, window: tuple[int, int]) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--window-size={window[0]},{window[1]}",
        f"--user-data-dir={profile}",
    ]


def dump_dom(
    chromium: str,
    page: pathlib.Path,
    suffix: str,
    profile: pathlib.Path,
    window: tuple[int, int] = WINDOW,
) -> str:
    """Load ``page`` (plus ``#...``/``?...`` ``suffix``) and return the DOM after JS."""
    url = page.resolve().as_uri() + suffix
    completed = subprocess.run(
        [*_command(chromium, profile, window), "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "<html" in completed.stdout, completed.stderr[-2000:]
    return completed.stdout


@dataclasses.dataclass
class Element:
    """An element of interest found in a DOM dump."""

    tag: str
    attrs: dict[str, str]
    text: str = ""
    markup_inside: bool = False


class DomReader(html.parser.HTMLParser):
    """Collect mutants, source cells, status counts and a few landmarks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.mutants: list[Element] = []
        self.source_cells: list[Element] = []
        self.counts: dict[str, str] = {}
        self.visible_count = ""
        self.title = ""
        self.body_first_id: str | None = None
        self.stale_text = ""
        self._body_seen = False
        self._capture: list[tuple[str, Element, int]] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for _, element, _ in self._capture:
            element.markup_inside = True
        if tag == "body":
            self._body_seen = True
        elif self._body_seen and self.body_first_id is None:
            self.body_first_id = values.get("id", "")
        classes = values.get("class", "").split()
        element = Element(tag, values)
        kind = ""
        if "mutant" in classes:
            self.mutants.append(element)
        elif tag == "td" and "src" in classes:
            self.source_cells.append(element)
            kind = "src"
        elif "status-count" in classes:
            kind = "count"
        elif values.get("id") == "visible-count":
            kind = "visible"
        elif tag == "title":
            kind = "title"
        elif values.get("id") == "stale-banner":
            kind = "stale"
        if kind:
            self._capture.append((kind, element, self._depth))
        if tag not in {"br", "input", "meta", "img", "hr", "link"}:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        del tag
        self._depth -= 1
        while self._capture and self._capture[-1][2] >= self._depth:
            kind, element, _ = self._capture.pop()
            if kind == "count":
                self.counts[element.attrs["data-status"]] = element.text
            elif kind == "visible":
                self.visible_count = element.text
            elif kind == "title":
                self.title = element.text
            elif kind == "stale":
                self.stale_text = element.text

    def handle_data(self, data: str) -> None:
        for _, element, _ in self._capture:
            element.text += data


PROBE_ID = "kit-probe-result"


def probe(
    chromium: str,
    page: pathlib.Path,
    script: str,
    profile: pathlib.Path,
    suffix: str = "",
) -> typ.Any:
    """Run ``script`` in the loaded page and return what it returns.

    Parameters
    ----------
    chromium
        The browser.
    page
        The report page; a copy with the probe appended is loaded.
    script
        The body of a JavaScript function run after the page's own script;
        its return value must be JSON-serialisable.
    profile
        A scratch browser profile directory.
    suffix
        ``#...`` or ``?...`` appended to the page's URL.

    Returns
    -------
    Any
        The script's return value, decoded from JSON.
    """
    text = page.read_text(encoding="utf-8")
    runner = (
        "<script>(function () { var out = document.createElement('pre');"
        f" out.id = '{PROBE_ID}';"
        " try { out.textContent = JSON.stringify((function () {"
        + script
        + "}())); } catch (e) { out.textContent = JSON.stringify({error: String(e)}); }"
        " document.body.appendChild(out); }());</script>"
    )
    head, tail = text.rsplit("</body>", 1)
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(head + runner + "</body>" + tail, encoding="utf-8")
    dom = dump_dom(chromium, probed, suffix, profile)
    found = _ProbeReader()
    found.feed(dom)
    assert found.text, "the probe wrote nothing"
    value = json.loads(found.text)
    assert not (isinstance(value, dict) and "error" in value), value
    return value


class _ProbeReader(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inside = dict(attrs).get("id") == PROBE_ID

    def handle_endtag(self, tag: str) -> None:
        self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.text += data


def screenshot(
    chromium: str,
    page: pathlib.Path,
    out: pathlib.Path,
    profile: pathlib.Path,
    suffix: str = "",
    window: tuple[int, int] = (WINDOW[0], 2000),
) -> pathlib.Path:
    """Save a PNG of ``page`` at ``window`` size; return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [
            *_command(chromium, profile, window),
            f"--screenshot={out.resolve()}",
            page.resolve().as_uri() + suffix,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert out.is_file(), completed.stderr[-2000:]
    assert out.stat().st_size > 1000, completed.stderr[-2000:]
    return out


def read_dom(text: str) -> DomReader:
    """Parse a DOM dump."""
    reader = DomReader()
    reader.feed(text)
    reader.close()
    return reader
