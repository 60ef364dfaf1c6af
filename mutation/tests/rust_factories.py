"""Rust phase results over the real ``rust_extension/src/pump.rs``.

Why built rather than run: a real Rust phase over the project's crate takes
about half an hour cold (cargo-mutants' 250 mutants, then the Python pump
suites against every mutant ``cargo test`` misses), far past a unit test.
The report tests that need a real run use the tiny crate of
:mod:`mutation.tests.ring_crate` instead; these results serve the tests
that need the real pump's text and the kinds of outcome a ring run cannot
give (a cross-language kill, an excused and an unviable mutant). They are
made through the kit's own public parts: the real Rust catalogue applied by
:func:`~mutation.rust_catalogue.apply_rust_mutant`, cargo-mutants-shaped
whole-file diffs (its naming, headers and marker comment), placed by
:func:`~mutation.rust_results.relocate`, scored and gated by
:mod:`mutation.rust_gates`, fingerprinted as the phase fingerprints them.
"""

from __future__ import annotations

import difflib
import json
import pathlib
import shutil
import typing as typ

from mutation.report import HTML_NAME, JSON_NAME, SUMMARY_NAME
from mutation.results import RESULTS_SCHEMA, Killer, MutantResult, Results
from mutation.rust_cache import source_functions, tests_digest
from mutation.rust_catalogue import apply_rust_mutant, catalogue_result, load_rust_catalogue
from mutation.rust_config import RustConfig, load_rust_config
from mutation.rust_gates import rust_gates, rust_scores
from mutation.rust_results import CARGO_MUTANTS_MARK, RUST_INPUTS, function_inputs, relocate
from mutation.tests.factories import make_results, save_results, write_project

REPO = pathlib.Path(__file__).resolve().parents[2]
PUMP = "rust_extension/src/pump.rs"
LIB = "rust_extension/src/lib.rs"
PY_PUMP_TESTS = "cuprum/unittests/test_rust_pump.py"
NONBLOCKING_KILLER = f"{PY_PUMP_TESTS}::test_pump_on_nonblocking_descriptors[65536]"
RUST_KILLER = "pump::signals::eintr_is_retried_while_cancellable"

RUST_SECTION = f"""
[mutation.rust]
crate = rust_extension
sources =
    {PUMP}
    {LIB}
catalogue = mutation/catalogue_rust.toml
excused = mutation/no_excuses.toml
python_tests =
    {PY_PUMP_TESTS}
results = mutation/results/rust.json
rust_score_min = 1.0
max_survivors = 0
"""


def write_pump_project(root: pathlib.Path) -> RustConfig:
    """Copy the real crate sources, tests and Rust catalogue under ``root``.

    Returns
    -------
    RustConfig
        The ``[mutation.rust]`` settings of the copy (no excuses file).
    """
    for rel in (PUMP, LIB, "mutation/catalogue_rust.toml", PY_PUMP_TESTS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    shutil.copytree(REPO / "rust_extension" / "tests", root / "rust_extension" / "tests")
    with (root / "setup.cfg").open("a", encoding="utf-8") as cfg:
        cfg.write(RUST_SECTION)
    return load_rust_config(root)


def cargo_mutant(
    config: RustConfig,
    file: str,
    function: str,
    context: str,
    change: tuple[str, str],
    what: str,
    status: str,
    *,
    killers: list[Killer] | None = None,
    detail: str = "",
) -> MutantResult:
    """A cargo-mutants mutant: in ``context`` (unique in ``file``), ``old`` becomes ``new``.

    The diff is whole-file, between ``src/...`` and the mutant's description,
    with cargo-mutants' marker comment right after the new code, as
    cargo-mutants writes it (``64 + /* ~ changed by cargo-mutants ~ */ 1024``).
    """
    old, new = change
    text = (config.root / file).read_text(encoding="utf-8")
    assert text.count(context) == 1, context
    offset = text.index(context) + context.index(old)
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    changed = context.replace(old, new + CARGO_MUTANTS_MARK, 1)
    mutated = text.replace(context, changed, 1)
    crate_file = config.crate_relative(file)
    name = f"{crate_file}:{line}:{column}: {what}"
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            mutated.splitlines(keepends=True),
            crate_file,
            what,
            n=8,
        )
    )
    return MutantResult(
        id=name,
        origin="cargo-mutants",
        file=file,
        function=function,
        line_start=line,
        line_end=line,
        original=old,
        replacement=new,
        diff=diff,
        status=status,  # type: ignore[arg-type]
        killers=killers or [],
        duration=2.5,
        mutator="FnValue" if what.startswith("replace ") and " -> " in what else "BinaryOperator",
        detail=detail,
        language="rust",
        replay=f'.venv/bin/python -m mutation.rust_phase replay "{name}"',
    )


def make_rust_results(config: RustConfig) -> Results:
    """A Rust result file as the phase writes it, current for ``config.root``.

    Holds the first two Rust catalogue entries (one killed by a Rust test,
    one not killed), two cargo-mutants mutants killed by ``cargo test`` (one
    on a long line), one that only a Python test kills (cross-language), a
    survivor, an excused and an unviable one.
    """
    texts = {s: (config.root / s).read_text(encoding="utf-8") for s in config.sources}
    catalogue = load_rust_catalogue(config.root / config.catalogue, config.sources)[:2]
    mutants: list[MutantResult] = []
    for index, entry in enumerate(catalogue):
        result = catalogue_result(entry, apply_rust_mutant(entry, texts[entry.file]))
        if index == 0:
            result.status = "killed"
            result.killers = [Killer(RUST_KILLER, "pump failed: Broken pipe (os error 32)", "rust")]
        else:
            result.status = "survived"
            result.detail = "missed by cargo test (survived) and by the Python tests (passed)"
        mutants.append(result)
    mutants.extend(
        [
            cargo_mutant(
                config,
                PUMP,
                "is_interrupted",
                "errno_of(err) == libc::EINTR",
                ("errno_of(err) == libc::EINTR", "true"),
                "replace is_interrupted -> bool with true",
                "killed",
                killers=[Killer(RUST_KILLER, "assertion failed: report.bytes > 0", "rust")],
            ),
            cargo_mutant(
                config,
                PUMP,
                "is_nonblocking",
                "flags >= 0 && flags & libc::O_NONBLOCK != 0",
                ("flags >= 0 && flags & libc::O_NONBLOCK != 0", "false"),
                "replace is_nonblocking -> bool with false",
                "killed",
                killers=[Killer(NONBLOCKING_KILLER, "TimeoutError: pump hung", "python")],
                detail="missed by cargo test (survived); killed by a Python test",
            ),
            cargo_mutant(
                config,
                PUMP,
                "is_downstream_closed",
                "code == libc::EPIPE || code",
                ("||", "&&"),
                "replace || with && in is_downstream_closed",
                "survived",
                detail="missed by cargo test (survived) and by the Python tests (passed)",
            ),
            # A long line made longer by the marker: the page must still fit 1280 px.
            cargo_mutant(
                config,
                PUMP,
                "run",
                "report)? == Phase::Finished",
                ("==", "!="),
                "replace == with != in run",
                "killed",
                killers=[Killer(RUST_KILLER, "assertion failed: spliced", "rust")],
            ),
            cargo_mutant(
                config,
                PUMP,
                "is_would_block",
                "err.kind() == io::ErrorKind::WouldBlock",
                ("err.kind() == io::ErrorKind::WouldBlock", "Default::default()"),
                "replace is_would_block -> bool with Default::default()",
                "unviable",
            ),
            cargo_mutant(
                config,
                PUMP,
                "errno_of",
                "err.raw_os_error().unwrap_or(0)",
                ("err.raw_os_error().unwrap_or(0)", "1"),
                "replace errno_of -> i32 with 1",
                "excused",
            ),
        ]
    )
    mutants[-1].excuse = "equivalent for the report tests: no caller tells errno 1 from 0"
    relocate(mutants, lambda file: texts.get(file))
    scores = rust_scores(mutants, config)
    return Results(
        schema=RESULTS_SCHEMA,
        created="2026-01-02T04:05:06+00:00",
        inputs={RUST_INPUTS: function_inputs(source_functions(config))},
        inputs_digest=tests_digest(config),
        phases={"baseline": 4.0, "cargo-mutants": 60.0, "cross-language": 30.0},
        modules=scores,
        mutants=mutants,
        tests=[],
        coverage={},
        gates=rust_gates(mutants, scores, config),
    )


def save_rust_results(results: Results, config: RustConfig) -> pathlib.Path:
    """Write ``results`` where the phase would, and return the path."""
    path = config.root / config.results
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results.to_json(), encoding="utf-8")
    return path


REPORT_DIR = pathlib.Path("mutation/results/report")
"""Where ``python -m mutation report`` writes by default, under the root."""


def pump_project(tmp_path: pathlib.Path) -> tuple[pathlib.Path, RustConfig, Results]:
    """A project with Python results and current Rust results over the real pump.rs."""
    root = write_project(tmp_path / "project")
    save_results(make_results(root), root)
    config = write_pump_project(root)
    rust = make_rust_results(config)
    save_rust_results(rust, config)
    return root, config, rust


def read_reports(root: pathlib.Path) -> tuple[dict[str, typ.Any], str, str]:
    """Return the elements JSON, ``summary.md`` and the page written under ``root``."""
    out = root / REPORT_DIR
    return (
        json.loads((out / JSON_NAME).read_text(encoding="utf-8")),
        (out / SUMMARY_NAME).read_text(encoding="utf-8"),
        (out / HTML_NAME).read_text(encoding="utf-8"),
    )


def named(rust: Results, part: str) -> MutantResult:
    """Return the mutant of ``rust`` whose id contains ``part``."""
    return next(m for m in rust.mutants if part in m.id)
