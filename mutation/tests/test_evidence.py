"""Evidence blocks of the must-kill mutants."""

from __future__ import annotations

import pathlib

from mutation.evidence import (
    collect_evidence,
    diff_html,
    evidence_html,
    fence,
    shorten,
)
from mutation.tests.factories import (
    FALLBACK_TEST,
    REPLAY,
    make_results,
    write_project,
)


def test_one_block_per_catalogue_mutant(tmp_path: pathlib.Path) -> None:
    results = make_results(write_project(tmp_path))
    items = collect_evidence(results)
    assert [item.id for item in items] == ["fallback-flipped", "env-var-ignored"]
    killed = items[0]
    assert [k.test for k in killed.killers] == [FALLBACK_TEST]
    assert killed.replay == REPLAY
    assert killed.diff.startswith("--- a/cuprum/_backend.py")
    assert items[1].killers == ()


def test_html_block_is_escaped(tmp_path: pathlib.Path) -> None:
    item = collect_evidence(make_results(write_project(tmp_path)))[0]
    text = evidence_html(item)
    assert "expected &#x27;python&#x27; | got &#x27;rust&#x27; &lt;backend&gt;" in text
    assert "<backend>" not in text
    assert f'<code class="replay">{REPLAY}</code>' in text


def test_diff_html_marks_lines() -> None:
    text = diff_html("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a < b\n+a <= b\n")
    assert '<span class="del">-a &lt; b</span>' in text
    assert '<span class="add">+a &lt;= b</span>' in text
    assert '<span class="hunk">@@ -1 +1 @@</span>' in text
    assert "--- a/f\n+++ b/f" in text


def test_shorten_and_fence() -> None:
    message = "\n".join(f"line {n}" for n in range(30))
    assert shorten(message, 3) == "line 0\nline 1\nline 2\n... (27 more lines)"
    assert shorten("short\n") == "short"
    assert fence("a ``` b", "text") == "````text\na ``` b\n````\n"
    assert fence("x\n") == "```\nx\n```\n"
