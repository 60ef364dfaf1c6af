"""Hand-made result files and a small fake project for the report tests."""

from __future__ import annotations

import dataclasses
import difflib
import pathlib

from mutation.config import KitConfig
from mutation.locations import locate_in_diff
from mutation.results import (
    RESULTS_SCHEMA,
    GateVerdict,
    Killer,
    ModuleScore,
    MutantResult,
    Results,
    TestRecord,
    fingerprint,
)

BACKEND = "cuprum/_backend.py"
STREAMS = "cuprum/_pipeline_streams.py"

BACKEND_SOURCE = '''\
"""A stand-in for the backend module, for the report tests."""

BANNER = "<script>document.title = 'pwned'</script>"


def select_backend(env: dict[str, str]) -> str:
    name = env.get("CUPRUM_STREAM_BACKEND", "auto")
    if name == "rust" and _available():
        return "rust"
    return "python"


def _available() -> bool:
    flags = 3
    return flags & 1 == 1 and len("<b>&amp;</b>") < 20


def unused(x: int) -> int:
    return x + 1
'''

STREAMS_SOURCE = '''\
"""A stand-in for the stream module."""


def pump(chunk: bytes) -> bytes:
    return chunk
'''

TEST_SOURCE = "def test_placeholder() -> None:\n    assert True\n"

LT_AMP_LINE = '    return flags & 1 == 1 and len("<b>&amp;</b>") < 20'

RUST_TEST = "cuprum/unittests/test_backend.py::test_rust_selected"
FALLBACK_TEST = "tests/behaviour/test_pathway.py::test_fallback[python]"
IDLE_TEST = "cuprum/unittests/test_backend.py::test_idle"
FALLBACK_MESSAGE = "AssertionError: expected 'python' | got 'rust' <backend>"
REPLAY = ".venv/bin/python -m mutation replay fallback-flipped"

EXPECTED_COUNTS = {
    "killed": 2,
    "survived": 3,
    "timeout": 1,
    "no_tests": 1,
    "error": 1,
    "excused": 1,
    "not_run": 1,
    "unviable": 0,
}

INPUT_GROUPS = {"source": [BACKEND, STREAMS], "tests": ["tests/test_fake.py"]}


def write_project(root: pathlib.Path) -> pathlib.Path:
    """Write the fake project's files under ``root`` and return ``root``."""
    for rel, text in (
        (BACKEND, BACKEND_SOURCE),
        (STREAMS, STREAMS_SOURCE),
        ("tests/test_fake.py", TEST_SOURCE),
    ):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def line_of(source: str, text: str) -> int:
    """Return the 1-based number of the first line containing ``text``."""
    for number, line in enumerate(source.splitlines(), start=1):
        if text in line:
            return number
    msg = f"{text!r} not in source"
    raise AssertionError(msg)


@dataclasses.dataclass
class Mutation:
    """One single-line mutation of :data:`BACKEND_SOURCE`."""

    line: int
    original: str
    replacement: str
    diff: str


def mutate(find: str, old: str, new: str, source: str = BACKEND_SOURCE) -> Mutation:
    """Replace ``old`` by ``new`` on the first line containing ``find``."""
    number = line_of(source, find)
    lines = source.splitlines(keepends=True)
    original = lines[number - 1]
    changed = original.replace(old, new, 1)
    assert changed != original
    mutated = [*lines[: number - 1], changed, *lines[number:]]
    diff = "".join(difflib.unified_diff(lines, mutated, f"a/{BACKEND}", f"b/{BACKEND}", n=0))
    return Mutation(number, original.rstrip("\n"), changed.rstrip("\n"), diff)


def mutmut(
    name: str,
    function: str,
    change: Mutation,
    status: str,
    *,
    killers: list[Killer] | None = None,
    excuse: str = "",
    detail: str = "",
) -> MutantResult:
    """A mutmut mutant of :data:`BACKEND` (located as the kit locates it)."""
    where = locate_in_diff(change.diff, BACKEND_SOURCE, file=BACKEND)
    return MutantResult(
        id=f"cuprum._backend.x_{function}__mutmut_{name}",
        origin="mutmut",
        file=BACKEND,
        function=function,
        line_start=change.line,
        line_end=change.line,
        original=change.original,
        replacement=change.replacement,
        diff=change.diff,
        status=status,  # type: ignore[arg-type]
        killers=killers or [],
        duration=0.25,
        mutator="operator",
        excuse=excuse,
        detail=detail,
        column_start=where.column_start,
        column_end=where.column_end,
        tests=[RUST_TEST, FALLBACK_TEST] if status != "no_tests" else [],
    )


def make_mutants() -> list[MutantResult]:
    """Ten mutants: every status, two catalogue entries (killed, survived)."""
    flipped = mutate('if name == "rust"', "==", "!=")
    auto = mutate('"auto"', '"auto"', '"XXautoXX"')
    lt = mutate("< 20", "< 20", "<= 20")
    rust_return = mutate('return "rust"', '"rust"', '"XXrustXX"')
    python_return = mutate('return "python"', '"python"', "None")
    plus_one = mutate("x + 1", "+ 1", "- 1")
    plus_two = mutate("x + 1", "+ 1", "+ 2")
    plus_zero = mutate("x + 1", "+ 1", "+ 0")
    fallback = mutate("_available()", "and _available()", "or _available()")
    env = mutate("CUPRUM_STREAM_BACKEND", '"CUPRUM_STREAM_BACKEND"', '"NOPE"')
    mutants = [
        mutmut(
            "1",
            "select_backend",
            flipped,
            "killed",
            killers=[Killer(RUST_TEST, "assert 'python' == 'rust'")],
        ),
        mutmut("2", "select_backend", auto, "survived"),
        mutmut("1", "_available", lt, "survived"),
        mutmut("3", "select_backend", rust_return, "timeout"),
        mutmut("4", "select_backend", python_return, "error", detail="ImportError: x"),
        mutmut("1", "unused", plus_one, "no_tests"),
        mutmut("2", "unused", plus_two, "excused", excuse="equivalent: nothing calls it"),
        mutmut("3", "unused", plus_zero, "not_run"),
        MutantResult(
            id="fallback-flipped",
            origin="catalogue",
            file=BACKEND,
            function="select_backend",
            line_start=fallback.line,
            line_end=fallback.line,
            original=fallback.original,
            replacement=fallback.replacement,
            diff=fallback.diff,
            status="killed",
            killers=[Killer(FALLBACK_TEST, FALLBACK_MESSAGE)],
            duration=1.5,
            claim="A missing extension falls back to the Python pump",
            must_kill=True,
            replay=REPLAY,
        ),
        MutantResult(
            id="env-var-ignored",
            origin="catalogue",
            file=BACKEND,
            function="select_backend",
            line_start=env.line,
            line_end=env.line,
            original=env.original,
            replacement=env.replacement,
            diff=env.diff,
            status="survived",
            duration=2.0,
            claim="CUPRUM_STREAM_BACKEND is honoured",
            must_kill=True,
            replay=".venv/bin/python -m mutation replay env-var-ignored",
        ),
    ]
    for mutant in mutants:
        if not mutant.column_start:
            where = locate_in_diff(mutant.diff, BACKEND_SOURCE, file=BACKEND)
            mutant.column_start, mutant.column_end = where.column_start, where.column_end
    return mutants


RUST_FILE = "rust_extension/src/pump.rs"

RUST_SOURCE = """\
/// Moves bytes.
pub fn pump(chunk: &[u8], limit: usize) -> usize {
    if chunk.len() > limit {
        return limit;
    }
    chunk.len()
}
"""

RUST_TEST = "rust_extension/tests/pump.rs::pump_limits"


def add_rust(results: Results, root: pathlib.Path) -> Results:
    """Add a Rust file with a cargo-mutants survivor and an unviable mutant."""
    path = root / RUST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RUST_SOURCE, encoding="utf-8")
    lines = RUST_SOURCE.splitlines(keepends=True)
    for ident, old, new, status in (
        ("rust-gt", "> limit", ">= limit", "survived"),
        ("rust-len", "    chunk.len()\n", "    ()\n", "unviable"),
    ):
        number = next(i for i, line in enumerate(lines) if old in line)
        mutated = [*lines[:number], lines[number].replace(old, new, 1), *lines[number + 1 :]]
        diff = "".join(difflib.unified_diff(lines, mutated, f"a/{RUST_FILE}", f"b/{RUST_FILE}"))
        where = locate_in_diff(diff, RUST_SOURCE, file=RUST_FILE)
        results.mutants.append(
            MutantResult(
                id=f"{RUST_FILE}:{number + 1}: {ident}",
                origin="cargo-mutants",
                file=RUST_FILE,
                function="pump",
                line_start=where.line_start,
                line_end=where.line_end,
                original=old,
                replacement=new,
                diff=diff,
                status=status,  # type: ignore[arg-type]
                language="rust",
                column_start=where.column_start,
                column_end=where.column_end,
                tests=[RUST_TEST],
            )
        )
    return results


def make_results(root: pathlib.Path) -> Results:
    """A hand-made result file whose inputs match the project at ``root``."""
    inputs, digest = fingerprint(root, INPUT_GROUPS)
    return Results(
        schema=RESULTS_SCHEMA,
        created="2026-01-02T03:04:05+00:00",
        inputs=inputs,
        inputs_digest=digest,
        phases={"baseline+coverage": 2.0, "catalogue": 3.0, "mutmut": 10.0},
        modules=[
            ModuleScore(BACKEND, 8, 1, 2, 1, 1, 1, 1, score=0.25, threshold=0.9),
            ModuleScore(STREAMS, 20, 19, 1, 0, 0, 0, 0, score=0.95, threshold=0.9),
        ],
        mutants=make_mutants(),
        tests=[
            TestRecord(RUST_TEST, "cuprum/unittests/test_backend.py", 1, 1),
            TestRecord(FALLBACK_TEST, "tests/behaviour/test_pathway.py", 1, 1),
            TestRecord(IDLE_TEST, "cuprum/unittests/test_backend.py", 0, 0),
        ],
        coverage={BACKEND: 100.0},
        gates=[
            GateVerdict(f"mutmut score {BACKEND}", False, "25.0% < 90.0%"),
            GateVerdict("must-kill catalogue", False, "env-var-ignored survived"),
        ],
    )


def save_results(results: Results, root: pathlib.Path) -> pathlib.Path:
    """Write ``results`` to the default result path under ``root``."""
    path = root / "mutation/results/latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")
    return path


def kit_config(**overrides: object) -> KitConfig:
    """A kit configuration for unit tests: two targets, no coverage bar, one job."""
    config = KitConfig(
        root=pathlib.Path("."),
        targets=("pkg/a.py", "pkg/b.py"),
        tests=("t.py",),
        catalogue="c.toml",
        excused="e.toml",
        results="r.json",
        baseline="b.json",
        coverage_branch_min=0,
        mutmut_score_min=0.95,
        max_survivors=0,
        mutant_timeout=60,
        jobs=1,
        copy=(),
    )
    return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
