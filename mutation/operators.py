"""The operators mutmut lacks, generated with libcst.

mutmut swaps operators and constants inside expressions; it never deletes a
statement. These operators do, one site at a time:

===================  ==========================================================
operator             mutation
===================  ==========================================================
``call-removed``     an expression-statement call (``f(x)``, ``await f(x)``)
                     becomes ``pass``
``cleanup-dropped``  the same, for a reset/close/cancel-like call (see
                     :data:`CLEANUP_WORDS`); such a call gets this operator
                     *instead of* ``call-removed``
``raise-to-pass``    a ``raise`` statement becomes ``pass``
``condition-negated``  an ``if``/``elif``/``while`` condition ``c`` becomes
                     ``not (c)`` (``not c`` becomes ``c``)
``except-emptied``   an ``except`` body becomes ``pass``
``finally-emptied``  a ``finally`` body becomes ``pass``
===================  ==========================================================

libcst keeps every byte of the file that a mutant does not touch (comments,
layout), so a mutant's diff shows only its own change, and its positions are
real source positions.

What is not mutated, and why no test could observe it:

* docstrings and other bare literals: they are not calls, so no operator
  applies to them;
* the body and condition of ``if TYPE_CHECKING:`` (also ``typing.`` or
  ``typ.TYPE_CHECKING``): the block never runs, only type checkers read it;
* the body and condition of ``if __name__ == "__main__":``: it runs only
  when the module is executed as a script, never when tests import it;
* an ``except``/``finally`` body that is already just ``pass``: emptying it
  gives the original file, so it is no mutant at all.

Two operators can produce the same mutated file (``except X: raise`` emptied
or its ``raise`` turned into ``pass``; a ``finally`` whose only statement is a
``close()``). That file is one mutant, kept once under the more specific
operator (order of :data:`OPERATORS`); nothing else is ever dropped.
Equivalent mutants are excused with a reason in ``mutation/excused.toml``.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing as typ

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

OPERATORS: tuple[str, ...] = (
    "raise-to-pass",
    "cleanup-dropped",
    "call-removed",
    "condition-negated",
    "except-emptied",
    "finally-emptied",
)
"""Operator names, most specific first (this order breaks ties between
operators that produce the same mutated file)."""

CLEANUP_WORDS: frozenset[str] = frozenset(
    {
        "aclose",
        "cancel",
        "cleanup",
        "clear",
        "close",
        "join",
        "kill",
        "reap",
        "release",
        "reset",
        "rmtree",
        "shutdown",
        "terminate",
        "unlink",
    }
)
"""A called name containing one of these words (split at ``_``, any case)
is a clean-up call: ``close_writer``, ``transport.close``,
``_hop_observers.reset``, ``get_stream_backend.cache_clear``."""

MODULE_SCOPE = "<module>"
"""The ``function`` of a mutant outside any function or class."""


@dataclasses.dataclass(frozen=True)
class GeneratedMutant:
    """One generated mutant of one file.

    Parameters
    ----------
    id
        ``<module>.<function>__<operator>_<n>``, where ``n`` counts that
        operator's sites within that function in source order, so the id
        changes only when its own function changes.
    operator
        One of :data:`OPERATORS`.
    file
        The mutated file, relative to the project root.
    function
        The enclosing function, ``Class.method`` for methods, ``outer.inner``
        for nested functions, :data:`MODULE_SCOPE` outside any.
    line_start, line_end
        1-based, inclusive lines of the replaced code in the original file.
    column_start, column_end
        1-based, inclusive columns of the first and last replaced character.
    original, replacement
        The replaced code and what replaces it.
    diff
        Unified diff of the file (``a/<file>`` to ``b/<file>``).
    mutated
        The whole mutated file.
    """

    id: str
    operator: str
    file: str
    function: str
    line_start: int
    line_end: int
    column_start: int
    column_end: int
    original: str
    replacement: str
    diff: str
    mutated: str


@dataclasses.dataclass(frozen=True)
class _Site:
    operator: str
    function: str
    old: cst.CSTNode
    new: cst.CSTNode
    span: CodeRange
    original: str
    replacement: str


def module_name(file: str) -> str:
    """``cuprum/_streams.py`` -> ``cuprum._streams``."""
    return file.removesuffix(".py").replace("/", ".")


def _called_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def is_cleanup_call(call: cst.Call) -> bool:
    """Whether ``call`` resets, closes, cancels or otherwise releases something."""
    words = _called_name(call).lower().split("_")
    return any(word in CLEANUP_WORDS for word in words)


def _statement_call(node: cst.Expr) -> cst.Call | None:
    value = node.value
    if isinstance(value, cst.Await):
        value = value.expression
    return value if isinstance(value, cst.Call) else None


def _is_type_checking(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "TYPE_CHECKING"
    return isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    right = test.comparisons[0].comparator
    return (
        isinstance(test.left, cst.Name)
        and test.left.value == "__name__"
        and isinstance(right, cst.SimpleString)
        and right.evaluated_value == "__main__"
    )


def _negated(test: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return test.expression
    if not test.lpar and not isinstance(test, cst.Name | cst.Attribute | cst.Call):
        test = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.UnaryOperation(operator=cst.Not(), expression=test)


def _passed_body(body: cst.BaseSuite) -> cst.BaseSuite | None:
    """``body`` with its statements replaced by ``pass`` (``None``: already so)."""
    statements = body.body
    if (
        len(statements) == 1
        and isinstance(statements[0], cst.SimpleStatementLine | cst.Pass)
        and all(
            isinstance(s, cst.Pass)
            for s in (
                statements[0].body
                if isinstance(statements[0], cst.SimpleStatementLine)
                else [statements[0]]
            )
        )
    ):
        return None
    if isinstance(body, cst.IndentedBlock):
        return body.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
    return body.with_changes(body=[cst.Pass()])


class _SiteFinder(cst.CSTVisitor):
    """Collect every mutation site, in source order."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self._module = module
        # Rendered once: ``Module.code`` renders the whole tree on every call.
        self._lines = module.code.splitlines()
        self._scope: list[str] = []
        self._skipped: set[int] = set()
        self.sites: list[_Site] = []

    def _function(self) -> str:
        return ".".join(self._scope) or MODULE_SCOPE

    def _span(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _text(self, span: CodeRange) -> str:
        """Return the exact source text of ``span``."""
        lines = self._lines[span.start.line - 1 : span.end.line]
        lines[-1] = lines[-1][: span.end.column]
        lines[0] = lines[0][span.start.column :]
        return "\n".join(lines)

    def _add(self, operator: str, old: cst.CSTNode, new: cst.CSTNode, replacement: str) -> None:
        span = self._span(old)
        self.sites.append(
            _Site(
                operator=operator,
                function=self._function(),
                old=old,
                new=new,
                span=span,
                original=self._text(span),
                replacement=replacement,
            )
        )

    def _add_body(self, operator: str, body: cst.BaseSuite) -> None:
        new = _passed_body(body)
        if new is None:
            return
        first = self._span(body.body[0])
        last = self._span(body.body[-1])
        span = CodeRange(first.start, last.end)
        lines = self._lines[span.start.line - 1 : span.end.line]
        self.sites.append(
            _Site(
                operator=operator,
                function=self._function(),
                old=body,
                new=new,
                span=span,
                original="\n".join(lines),
                replacement="pass",
            )
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scope.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scope.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        return id(node) not in self._skipped

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        return id(node) not in self._skipped

    def visit_If(self, node: cst.If) -> None:
        if _is_type_checking(node.test) or _is_main_guard(node.test):
            # Never runs under test (see the module docstring); its else does.
            self._skipped.add(id(node.body))
            return
        self._add_condition(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._add_condition(node.test)

    def _add_condition(self, test: cst.BaseExpression) -> None:
        negated = _negated(test)
        self._add("condition-negated", test, negated, self._module.code_for_node(negated))

    def visit_Expr(self, node: cst.Expr) -> None:
        call = _statement_call(node)
        if call is None:
            return
        operator = "cleanup-dropped" if is_cleanup_call(call) else "call-removed"
        self._add(operator, node, cst.Pass(semicolon=node.semicolon), "pass")

    def visit_Raise(self, node: cst.Raise) -> None:
        self._add("raise-to-pass", node, cst.Pass(semicolon=node.semicolon), "pass")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._add_body("except-emptied", node.body)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._add_body("except-emptied", node.body)

    def visit_Finally(self, node: cst.Finally) -> None:
        self._add_body("finally-emptied", node.body)


def _whole_module_texts(module: cst.Module, sites: list[_Site]) -> list[str]:
    """Return each site's mutated file by rewriting the whole module (the reference)."""
    mutated = [module.deep_replace(site.old, site.new) for site in sites]
    return [m.code if isinstance(m, cst.Module) else "" for m in mutated]


def _mutated_texts(
    module: cst.Module,
    source: str,
    sites: list[_Site],
    positions: typ.Mapping[cst.CSTNode, CodeRange],
) -> list[str]:
    """Return each site's mutated file, rewriting only its top-level statement.

    Rewriting and rendering the whole module per site cost about 6 s for
    cuprum's 285 mutants. A module's text is its header, each top-level
    statement's code and its footer, in order; a site lies inside one
    statement (sites are expressions, small statements and suites, never a
    top-level statement), so only that statement is rewritten and rendered.
    Where the pieces do not add up to the source, the whole module is.
    """
    pieces = [module.code_for_node(statement) for statement in module.body]
    joined = "".join(pieces)
    head_end = source.find(joined)
    if head_end < 0 or not joined:
        return _whole_module_texts(module, sites)
    head, tail = source[:head_end], source[head_end + len(joined) :]
    lasts = [positions[statement].end.line for statement in module.body]
    texts: list[str] = []
    for site in sites:
        index = next((i for i, last in enumerate(lasts) if site.span.start.line <= last), -1)
        statement = module.body[index] if index >= 0 else None
        replaced = statement.deep_replace(site.old, site.new) if statement else None
        if not isinstance(replaced, cst.CSTNode) or replaced is statement:
            texts.extend(_whole_module_texts(module, [site]))
            continue
        middle = module.code_for_node(replaced)
        texts.append(head + "".join(pieces[:index]) + middle + "".join(pieces[index + 1 :]) + tail)
    return texts


def generate_mutants(source: str, file: str) -> list[GeneratedMutant]:
    """Generate every mutant of ``source`` (the text of ``file``).

    Parameters
    ----------
    source
        The unmutated file text.
    file
        Its path relative to the project root (``cuprum/_streams.py``); it
        names the mutants and heads their diffs.

    Returns
    -------
    list[GeneratedMutant]
        In source order; the same input always gives the same list.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.
    """
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        msg = f"{file}: cannot generate mutants, not valid Python: {exc}"
        raise SyntaxError(msg) from None
    module = wrapper.module
    finder = _SiteFinder(module)
    wrapper.visit(finder)
    texts = _mutated_texts(module, source, finder.sites, wrapper.resolve(PositionProvider))
    # One mutated file is one mutant: keep it under the most specific operator.
    keep: dict[str, int] = {}
    for index in sorted(
        range(len(finder.sites)), key=lambda i: (OPERATORS.index(finder.sites[i].operator), i)
    ):
        if texts[index] != source:
            keep.setdefault(texts[index], index)
    counters: dict[tuple[str, str], int] = {}
    mutants: list[GeneratedMutant] = []
    for index in sorted(keep.values()):
        site = finder.sites[index]
        key = (site.function, site.operator)
        counters[key] = counters.get(key, 0) + 1
        mutated = texts[index]
        mutants.append(
            GeneratedMutant(
                id=f"{module_name(file)}.{site.function}__{site.operator}_{counters[key]}",
                operator=site.operator,
                file=file,
                function=site.function,
                line_start=site.span.start.line,
                line_end=site.span.end.line,
                column_start=site.span.start.column + 1,
                # libcst's end column is 0-based and exclusive: as a 1-based
                # inclusive column (the kit's convention) it is the same number.
                column_end=site.span.end.column,
                original=site.original,
                replacement=site.replacement,
                diff="".join(
                    difflib.unified_diff(
                        source.splitlines(keepends=True),
                        mutated.splitlines(keepends=True),
                        fromfile=f"a/{file}",
                        tofile=f"b/{file}",
                    )
                ),
                mutated=mutated,
            )
        )
    return mutants
