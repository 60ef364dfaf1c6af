"""The HTML report's inline style and script (no external resource is loaded).

The layout keeps every element inside a 1280 px window: the page is capped
at the window's width, the file tree and the code share it in a grid, long
code lines scroll inside their own box and long messages wrap.

The script does three things: filters mutants by status, origin and module
(the URL's ``#status=survived,timeout``, ``origin=`` and ``module=`` pick the
initial filter), opens and closes a line's mutants when its marker is
clicked, and sorts the per-test table by the clicked column.
"""

from __future__ import annotations

from mutation.report_highlight import highlight_css

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "killed": ("#1a7f37", "#fff"),
    "survived": ("#cf222e", "#fff"),
    "timeout": ("#bc4c00", "#fff"),
    "no_tests": ("#9a6700", "#fff"),
    "error": ("#8250df", "#fff"),
    "excused": ("#0969da", "#fff"),
    "not_run": ("#afb8c1", "#1d2125"),
    "unviable": ("#d0d7de", "#1d2125"),
}
"""Background and text colour of each status's badge and marker."""

_BASE = """
*, *::before, *::after { box-sizing: border-box; }

body { font: 14px/1.45 system-ui, sans-serif; margin: 0; padding: 0 16px 48px;
  color: #1d2125; }
h1 { margin: 12px 0 4px; font-size: 24px; }
h2 { font-size: 18px; margin: 18px 0 6px; }
h3 { font-size: 15px; margin: 12px 0 4px; }
code, pre, .src { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: 4px 8px; margin: 4px 0; max-width: 100%;
  overflow-x: auto; }
pre.wrap { white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: #57606a; }
.wrap-any { overflow-wrap: anywhere; }
[hidden] { display: none !important; }
table.grid { border-collapse: collapse; margin: 4px 0 12px; max-width: 100%; }
table.grid th, table.grid td { border: 1px solid #d0d7de; padding: 2px 8px;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.grid td.num, table.grid th.num { text-align: right; white-space: nowrap; }
#gates tr > :nth-child(2), #rust-gates tr > :nth-child(2) { white-space: nowrap; }
.stale { background: #fff3cd; border: 2px solid #d39e00; padding: 8px 12px;
  margin-top: 12px; font-weight: 600; }
.pass { color: #1a7f37; } .fail { color: #cf222e; font-weight: 600; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px;
  white-space: nowrap; }
.lang { display: inline-block; padding: 0 5px; border: 1px solid #d0d7de;
  border-radius: 6px; font-size: 11px; color: #57606a; }
#filters { position: sticky; top: 0; z-index: 2; background: #fff;
  border-bottom: 1px solid #d0d7de; padding: 6px 0; }
#filters fieldset { display: inline-block; border: 0; margin: 0 12px 0 0; padding: 0;
  vertical-align: top; }
#filters legend { font-weight: 600; padding: 0; float: left; margin-right: 6px; }
#filters label { margin-right: 8px; white-space: nowrap; }
#filters .row { display: flex; flex-wrap: wrap; gap: 4px 0; align-items: baseline; }
#review { display: grid; grid-template-columns: minmax(160px, 240px) minmax(0, 1fr);
  gap: 16px; align-items: start; }
#tree { position: sticky; top: 96px; max-height: calc(100vh - 110px); overflow: auto;
  border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 8px; font-size: 13px; }
#tree ul { list-style: none; margin: 0; padding-left: 12px; }
#tree > ul { padding-left: 0; }
#tree a { text-decoration: none; color: #0969da; overflow-wrap: anywhere; }
#tree .dir { color: #57606a; }
#tree .file-entry { margin: 2px 0; }
.pills { display: inline-flex; flex-wrap: wrap; gap: 2px; }
.pill { display: inline-block; min-width: 16px; padding: 0 4px; border-radius: 7px;
  font-size: 11px; line-height: 15px; text-align: center; }
section.file { margin-bottom: 24px; min-width: 0; }
section.file h2 { overflow-wrap: anywhere; }
.code-box { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
table.source { border-collapse: collapse; min-width: 100%; }
table.source td { padding: 0 6px; vertical-align: top; }
td.ln { color: #6e7781; text-align: right; user-select: none; width: 44px;
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
td.mk { width: 72px; white-space: nowrap; }
td.src { white-space: pre; }
button.marker { border: 0; background: transparent; padding: 0; cursor: pointer;
  display: inline-flex; gap: 2px; }
button.marker:focus-visible { outline: 2px solid #0969da; }
tr.line.worst-survived, tr.line.worst-no_tests { background: #ffebe9; }
tr.line.worst-timeout, tr.line.worst-error { background: #fff1e0; }
tr.line.worst-killed { background: #f0fff4; }
tr.mutants > td { padding: 4px 8px 8px 52px; background: #fbfcfd; }
.mutant { margin: 4px 0; padding: 4px 8px; border-left: 4px solid #8c959f;
  background: #fff; white-space: normal; max-width: min(1000px, calc(100vw - 380px)); }
details.card-body > summary { color: #57606a; font-size: 12px; cursor: pointer; }
.mutant header { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: baseline; }
.mutant header code { overflow-wrap: anywhere; }
.mutant .facts { margin: 2px 0; }
.mutant ul { margin: 2px 0; padding-left: 18px; }
.mutant li { overflow-wrap: anywhere; }
pre.diff .add { background: #e6ffec; } pre.diff .del { background: #ffebe9; }
pre.diff .hunk { color: #6e7781; }
code.replay { background: #f6f8fa; padding: 1px 4px; overflow-wrap: anywhere; }
.evidence { margin: 4px 0; }
table#tests-table th { cursor: pointer; user-select: none; }
table#tests-table th[aria-sort="ascending"]::after { content: " \\25B2"; }
table#tests-table th[aria-sort="descending"]::after { content: " \\25BC"; }
tr.idle td { background: #fff8c5; }
#tree li.filtered-out > a { color: #8c959f; }
ul.review-list { columns: 2; column-gap: 24px; padding-left: 18px; margin: 4px 0; }
ul.review-list li { overflow-wrap: anywhere; break-inside: avoid; }
"""


def _status_rules() -> str:
    rules = []
    for status, (background, text) in STATUS_COLOURS.items():
        rules.append(
            f".badge.status-{status}, .pill.status-{status} "
            f"{{ background: {background}; color: {text}; }}\n"
            f".mutant.status-{status} {{ border-left-color: {background}; }}"
        )
    return "\n".join(rules)


STYLE = _BASE + _status_rules() + "\n" + highlight_css()

SCRIPT = """
(function () {
  "use strict";
  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }
  var groups = {status: all("input.status-filter"), origin: all("input.origin-filter"),
    module: all("input.module-filter")};
  var mutants = all("article.mutant");
  var counter = document.getElementById("visible-count");

  function wanted(name) {
    var text = location.hash.replace(/^#/, "") + "&" + location.search.replace(/^\\?/, "");
    var match = new RegExp("(?:^|&)" + name + "=([^&]*)").exec(text);
    return match ? decodeURIComponent(match[1]).split(",").filter(Boolean) : null;
  }

  function on(name) {
    var chosen = {};
    groups[name].forEach(function (box) { chosen[box.value] = box.checked; });
    return chosen;
  }

  function apply() {
    var status = on("status"), origin = on("origin"), module = on("module");
    var shown = 0;
    mutants.forEach(function (el) {
      var visible = status[el.dataset.status] === true && origin[el.dataset.origin] === true &&
        module[el.dataset.file] === true;
      el.hidden = !visible;
      if (visible) { shown += 1; }
    });
    all("tr.line.has-mutants").forEach(function (row) {
      var box = document.getElementById(row.dataset.mutants);
      var any = box.querySelector("article.mutant:not([hidden])") !== null;
      row.classList.toggle("filtered-out", !any);
      row.querySelector("button.marker").hidden = !any;
      box.hidden = !any || box.dataset.open !== "true";
    });
    var hiddenFiles = {};
    all("section.file").forEach(function (section) {
      // A file whose mutants are all filtered out is hidden too, so that
      // "survivors only" shows only the files with survivors.
      var cards = section.querySelectorAll("article.mutant");
      var shownCards = section.querySelectorAll("article.mutant:not([hidden])");
      section.hidden = module[section.dataset.file] !== true ||
        (cards.length > 0 && shownCards.length === 0);
      hiddenFiles[section.dataset.file] = section.hidden;
    });
    all("#tree li.file-entry").forEach(function (item) {
      item.classList.toggle("filtered-out", hiddenFiles[item.dataset.file] === true);
    });
    counter.textContent = "Showing " + shown + " of " + mutants.length + " mutants";
    counter.dataset.visible = String(shown);
  }

  function choose(name, values) {
    groups[name].forEach(function (box) { box.checked = values.indexOf(box.value) >= 0; });
  }

  function fromUrl() {
    ["status", "origin", "module"].forEach(function (name) {
      var values = wanted(name);
      if (values) { choose(name, values); }
    });
    apply();
  }

  function toggle(marker) {
    var row = marker.closest("tr.line");
    var box = document.getElementById(row.dataset.mutants);
    var open = box.dataset.open !== "true";
    box.dataset.open = String(open);
    if (open) {
      all("details.card-body", box).forEach(function (body) { body.open = true; });
    }
    marker.setAttribute("aria-expanded", String(open));
    box.hidden = !open || row.classList.contains("filtered-out");
  }

  Object.keys(groups).forEach(function (name) {
    groups[name].forEach(function (box) { box.addEventListener("change", apply); });
  });
  all("button.marker").forEach(function (marker) {
    marker.addEventListener("click", function () { toggle(marker); });
  });
  document.getElementById("show-all").addEventListener("click", function () {
    Object.keys(groups).forEach(function (name) {
      choose(name, groups[name].map(function (box) { return box.value; }));
    });
    apply();
  });
  document.getElementById("show-problems").addEventListener("click", function () {
    choose("status", ["survived", "timeout", "no_tests", "error"]);
    apply();
  });

  var table = document.getElementById("tests-table");
  if (table) {
    all("th", table).forEach(function (th, column) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        all("th", table).forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = all("tr", body);
        var numeric = th.dataset.type === "number";
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
          var order = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  window.addEventListener("hashchange", fromUrl);
  fromUrl();
}());
"""
