"""Running generated mutants: real pytest runs in scratch copies of a tiny project."""

from __future__ import annotations

import hashlib
import pathlib
import textwrap

from mutation.generated_runner import discover_generated, run_generated

MODULE = textwrap.dedent(
    """\
    def close_all(items):
        for item in items:
            item.close()
        if not items:
            raise ValueError("nothing to close")
    """
)

TESTS = textwrap.dedent(
    """\
    from pkg.mod import close_all


    class Item:
        closed = False

        def close(self):
            self.closed = True


    def test_closes_every_item():
        items = [Item(), Item()]
        close_all(items)
        assert all(item.closed for item in items)


    def test_closes_a_single_item():
        item = Item()
        close_all([item])
        assert item.closed
    """
)


def _project(root: pathlib.Path) -> pathlib.Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text(MODULE)
    (root / "test_mod.py").write_text(TESTS)
    return root


def _digest(root: pathlib.Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_each_mutant_is_killed_or_survives_by_the_tests_verdict(tmp_path: pathlib.Path) -> None:
    pristine = _project(tmp_path / "pristine")
    before = _digest(pristine)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    mutants = discover_generated(pristine, ["pkg/mod.py"])
    lines: list[str] = []
    results = run_generated(
        mutants, pristine, scratch, ["test_mod.py"], timeout=120, jobs=2, progress=lines.append
    )
    by_id = {r.id: r for r in results}
    assert [r.id for r in results] == [m.id for m in mutants]
    assert set(by_id) == {
        "pkg.mod.close_all__cleanup-dropped_1",
        "pkg.mod.close_all__condition-negated_1",
        "pkg.mod.close_all__raise-to-pass_1",
    }
    dropped = by_id["pkg.mod.close_all__cleanup-dropped_1"]
    assert dropped.status == "killed"
    # The run stops at the first failing test: one killer is enough.
    assert [k.test for k in dropped.killers] == ["test_mod.py::test_closes_every_item"]
    assert dropped.origin == "generated"
    assert dropped.mutator == "cleanup-dropped"
    assert (dropped.line_start, dropped.column_start, dropped.column_end) == (3, 9, 20)
    assert by_id["pkg.mod.close_all__condition-negated_1"].status == "killed"
    # No test calls close_all with nothing: turning the raise into pass survives.
    survivor = by_id["pkg.mod.close_all__raise-to-pass_1"]
    assert survivor.status == "survived"
    assert survivor.killers == []
    assert "python -m mutation.generated replay pkg.mod.close_all__raise-to-pass_1" in (
        survivor.replay
    )
    assert len(lines) == 3
    assert _digest(pristine) == before
    assert list(scratch.iterdir()) == []


def test_a_mutant_that_breaks_collection_is_an_error_not_a_kill(tmp_path: pathlib.Path) -> None:
    pristine = _project(tmp_path / "pristine")
    (pristine / "pkg" / "mod.py").write_text(
        "import sys\nif sys.version_info < (3,):\n    raise ImportError('too old')\n"
        "def close_all(items):\n    pass\n"
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    mutants = [
        m for m in discover_generated(pristine, ["pkg/mod.py"]) if m.operator == "condition-negated"
    ]
    (result,) = run_generated(
        mutants, pristine, scratch, ["test_mod.py"], timeout=120, jobs=1, progress=print
    )
    assert result.status == "error"
    assert "too old" in result.detail


def test_without_stop_first_every_killer_is_listed(tmp_path: pathlib.Path) -> None:
    pristine = _project(tmp_path / "pristine")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    mutants = [
        m for m in discover_generated(pristine, ["pkg/mod.py"]) if m.operator == "cleanup-dropped"
    ]
    (result,) = run_generated(
        mutants,
        pristine,
        scratch,
        ["test_mod.py"],
        timeout=120,
        jobs=1,
        progress=print,
        stop_first=False,
    )
    assert result.status == "killed"
    assert [k.test for k in result.killers] == [
        "test_mod.py::test_closes_a_single_item",
        "test_mod.py::test_closes_every_item",
    ]
