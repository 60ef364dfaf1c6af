"""Headless Chromium for the HTML report tests, and a small DOM reader."""

from __future__ import annotations

import dataclasses
import html.parser
import pathlib
import shutil
import subprocess

CHROMIUM_NAMES = ("chromium", "chromium-browser")
MISSING_REASON = "headless Chromium is not installed (Debian/Ubuntu: apt-get install chromium)"


def find_chromium() -> str | None:
    """Return the Chromium executable, or ``None``."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def dump_dom(chromium: str, page: pathlib.Path, suffix: str, profile: pathlib.Path) -> str:
    """Load ``page`` (plus ``#...``/``?...`` ``suffix``) and return the DOM after JS."""
    url = page.resolve().as_uri() + suffix
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
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


def read_dom(text: str) -> DomReader:
    """Parse a DOM dump."""
    reader = DomReader()
    reader.feed(text)
    reader.close()
    return reader
