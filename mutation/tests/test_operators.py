"""The generated operators: what each one produces, where, and under what id."""

from __future__ import annotations

import ast
import pathlib
import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mutation.generated_source import generated_mutants
from mutation.locations import location_problems
from mutation.operators import (
    OPERATORS,
    GeneratedMutant,
    _mutated_texts,
    _SiteFinder,
    _whole_module_texts,
    generate_mutants,
)

REPO = pathlib.Path(__file__).resolve().parents[2]

SAMPLE = textwrap.dedent(
    '''\
    """A module docstring: never mutated."""
    import typing

    if typing.TYPE_CHECKING:
        import os

    def pump(reader, writer):
        """A function docstring: never mutated."""
        while reader.more():
            writer.write(reader.read())  # keep this comment
        try:
            flush(writer)
        except OSError:
            pass
        except ValueError:
            raise
        finally:
            writer.close()
        if not writer.ok:
            raise RuntimeError("broken")
        return 1


    class Hop:
        async def stop(self):
            await self.task.cancel()
            log("stopped")


    if __name__ == "__main__":
        pump(None, None)
    '''
)


def _by_id(mutants: list[GeneratedMutant]) -> dict[str, GeneratedMutant]:
    return {m.id: m for m in mutants}


def test_every_site_gets_one_mutant_under_a_stable_id() -> None:
    mutants = generate_mutants(SAMPLE, "pkg/mod.py")
    assert [m.id for m in mutants] == [
        "pkg.mod.pump__condition-negated_1",
        "pkg.mod.pump__call-removed_1",
        "pkg.mod.pump__call-removed_2",
        "pkg.mod.pump__raise-to-pass_1",
        "pkg.mod.pump__cleanup-dropped_1",
        "pkg.mod.pump__condition-negated_2",
        "pkg.mod.pump__raise-to-pass_2",
        "pkg.mod.Hop.stop__cleanup-dropped_1",
        "pkg.mod.Hop.stop__call-removed_1",
    ]
    assert {m.operator for m in mutants} <= set(OPERATORS)
    assert all(m.file == "pkg/mod.py" for m in mutants)


def test_the_same_source_always_gives_the_same_mutants() -> None:
    assert generate_mutants(SAMPLE, "pkg/mod.py") == generate_mutants(SAMPLE, "pkg/mod.py")


def test_ids_survive_edits_to_other_functions() -> None:
    edited = SAMPLE.replace(
        "class Hop:",
        "def helper():\n    if True:\n        raise ValueError\n\n\nclass Hop:",
    )
    before = _by_id(generate_mutants(SAMPLE, "pkg/mod.py"))
    after = _by_id(generate_mutants(edited, "pkg/mod.py"))
    for ident, mutant in before.items():
        assert after[ident].original == mutant.original
        assert after[ident].operator == mutant.operator
    assert "pkg.mod.helper__raise-to-pass_1" in after


def test_condition_negated_wraps_the_test_and_unwraps_a_not() -> None:
    mutants = _by_id(generate_mutants(SAMPLE, "pkg/mod.py"))
    loop = mutants["pkg.mod.pump__condition-negated_1"]
    assert loop.original == "reader.more()"
    assert loop.replacement == "not reader.more()"
    assert "+    while not reader.more():" in loop.diff
    unwrapped = mutants["pkg.mod.pump__condition-negated_2"]
    assert unwrapped.original == "not writer.ok"
    assert "+    if writer.ok:" in unwrapped.diff


def test_compound_conditions_are_parenthesised() -> None:
    source = "def f(a, b):\n    if a or b:\n        return 1\n    return 2\n"
    (mutant,) = generate_mutants(source, "m.py")
    assert mutant.replacement == "not (a or b)"
    assert "if not (a or b):" in mutant.mutated


def test_call_removed_keeps_the_rest_of_the_line() -> None:
    mutant = _by_id(generate_mutants(SAMPLE, "pkg/mod.py"))["pkg.mod.pump__call-removed_1"]
    assert mutant.original == "writer.write(reader.read())"
    assert mutant.replacement == "pass"
    assert "+        pass  # keep this comment\n" in mutant.diff
    assert (mutant.line_start, mutant.line_end) == (10, 10)
    assert (mutant.column_start, mutant.column_end) == (9, 35)


def test_cleanup_calls_get_their_own_operator() -> None:
    mutants = _by_id(generate_mutants(SAMPLE, "pkg/mod.py"))
    assert mutants["pkg.mod.pump__cleanup-dropped_1"].original == "writer.close()"
    awaited = mutants["pkg.mod.Hop.stop__cleanup-dropped_1"]
    assert awaited.original == "await self.task.cancel()"
    assert awaited.function == "Hop.stop"


def test_a_body_already_pass_gives_no_mutant_and_duplicates_are_kept_once() -> None:
    mutants = generate_mutants(SAMPLE, "pkg/mod.py")
    # ``except OSError: pass`` cannot be emptied; ``except ValueError: raise``
    # emptied is the same file as its raise turned into pass (kept once, as
    # raise-to-pass); ``finally: writer.close()`` emptied is cleanup-dropped.
    assert not [m for m in mutants if m.operator in ("except-emptied", "finally-emptied")]
    assert len({m.mutated for m in mutants}) == len(mutants)


def test_except_and_finally_bodies_are_emptied() -> None:
    source = textwrap.dedent(
        """\
        def f(fd):
            try:
                use(fd)
            except OSError as exc:
                report(exc)
                return None
            finally:
                os.close(fd)
                note()
        """
    )
    mutants = _by_id(generate_mutants(source, "m.py"))
    emptied = mutants["m.f__except-emptied_1"]
    assert emptied.original == "        report(exc)\n        return None"
    assert (emptied.line_start, emptied.line_end) == (5, 6)
    assert "+        pass\n" in emptied.diff
    final = mutants["m.f__finally-emptied_1"]
    assert (final.line_start, final.line_end) == (8, 9)
    ast.parse(final.mutated)


def test_type_checking_and_main_guard_blocks_are_not_mutated() -> None:
    mutants = generate_mutants(SAMPLE, "pkg/mod.py")
    assert all(m.function != "<module>" for m in mutants)
    assert not any("TYPE_CHECKING" in m.original or "__main__" in m.original for m in mutants)


def test_else_of_a_type_checking_block_is_mutated() -> None:
    source = "if TYPE_CHECKING:\n    f()\nelse:\n    g()\n"
    (mutant,) = generate_mutants(source, "m.py")
    assert mutant.original == "g()"
    assert mutant.function == "<module>"


def test_every_mutant_of_the_real_targets_parses_and_differs() -> None:
    for target in ("cuprum/_backend.py", "cuprum/_pipeline_streams.py"):
        source = (REPO / target).read_text(encoding="utf-8")
        mutants = generate_mutants(source, target)
        assert mutants, target
        # The engine's source re-checks every location as it lists them.
        engine = {m.id: m.result for m in generated_mutants(REPO, [target])}
        assert len({m.id for m in mutants}) == len(mutants)
        for mutant in mutants:
            assert mutant.mutated != source
            ast.parse(mutant.mutated)
            assert mutant.diff.startswith(f"--- a/{target}\n+++ b/{target}\n")
            lines = source.splitlines()[mutant.line_start - 1 : mutant.line_end]
            assert mutant.original.strip().splitlines()[0].strip() in lines[0]
            assert location_problems(engine[mutant.id], source) == []
            first = source.splitlines()[mutant.line_start - 1]
            last = source.splitlines()[mutant.line_end - 1]
            if mutant.operator not in ("except-emptied", "finally-emptied"):
                # Columns bound exactly the original text (first to last character).
                assert first[mutant.column_start - 1 :].startswith(mutant.original.splitlines()[0])
                assert last[: mutant.column_end].endswith(mutant.original.splitlines()[-1])


def test_invalid_python_is_a_syntax_error_naming_the_file() -> None:
    with pytest.raises(SyntaxError, match=r"m\.py: cannot generate mutants"):
        generate_mutants("def f(:\n", "m.py")


def test_elif_conditions_are_negated_too() -> None:
    source = (
        "def f(a, b):\n    if a:\n        return 1\n    elif b:\n        return 2\n    return 3\n"
    )
    mutants = generate_mutants(source, "m.py")
    assert [(m.id, m.original, m.line_start) for m in mutants] == [
        ("m.f__condition-negated_1", "a", 2),
        ("m.f__condition-negated_2", "b", 4),
    ]
    assert "+    elif not b:" in mutants[1].diff


TRICKY = '''\
#!/usr/bin/env python
"""Module docstring."""
# a comment before the first statement

import functools

LIMIT = 3
if LIMIT > 2:
    functools.reduce(max, [1])


@functools.cache
def f(x):
    try:
        close(x)  # trailing comment
    except OSError:
        raise
    finally:
        release(x); x.close()


class C:
    def m(self):
        while self.ready():
            self.reset()


# a comment after the last statement
cleanup()'''


@pytest.mark.parametrize(
    ("name", "source"),
    [
        # Without a final newline the statements' code does not add up to
        # the source (the last one renders one), so the whole module is
        # rewritten; with one, only the site's statement is.
        ("tricky.py", TRICKY),
        ("tricky_newline.py", TRICKY + "\n\n"),
        *[(f, (REPO / f).read_text()) for f in ("cuprum/_pipeline.py", "cuprum/_streams.py")],
    ],
)
def test_rewriting_one_statement_gives_the_whole_module_rewrites_bytes(
    name: str, source: str
) -> None:
    """The fast path (one top-level statement re-rendered) equals the reference."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    finder = _SiteFinder(wrapper.module)
    wrapper.visit(finder)
    assert len(finder.sites) > 5
    fast = _mutated_texts(wrapper.module, source, finder.sites, wrapper.resolve(PositionProvider))
    assert fast == _whole_module_texts(wrapper.module, finder.sites)
    assert all(text != source for text in fast)
