"""The unmutated baseline: outcomes, per-test durations and per-test coverage.

A pytest run under coverage.py on a pristine copy (split by test file
across processes, then merged: :mod:`mutation.baseline_shards`). It must pass (else the
kit stops with exit 4). It also yields the target modules' branch coverage
(the coverage gate), each test's duration (its hang limit and its place in
the "fastest first" order), and which tests execute each line of the
targets (so a mutant runs only the tests that cover its function).
"""

from __future__ import annotations

import ast
import concurrent.futures
import dataclasses
import json
import pathlib
import re
import shutil
import sys
import typing as typ

from mutation.baseline_shards import partition, shard_count
from mutation.config import KitConfig
from mutation.processes import ChildRun, run_child
from mutation.results import Killer

PLUGIN_NAME = "_kit_session"
PLUGIN_SOURCE = pathlib.Path(__file__).with_name("session_plugin.py")


ORPHANS_SOURCE = pathlib.Path(__file__).with_name("orphans.py")


def install_plugin(workspace: pathlib.Path) -> None:
    """Copy the kit's pytest plugin (and the orphan reaper it imports) into ``workspace``."""
    shutil.copy2(PLUGIN_SOURCE, workspace / f"{PLUGIN_NAME}.py")
    shutil.copy2(ORPHANS_SOURCE, workspace / "_kit_orphans.py")


@dataclasses.dataclass
class Baseline:
    """What the unmutated run showed.

    ``durations`` maps each test's node id to its seconds (setup, call and
    teardown); ``lines`` maps each target file to ``{line: {test, ...}}``.
    """

    passed: bool
    failures: list[Killer]
    durations: dict[str, float]
    coverage: dict[str, float]
    lines: dict[str, dict[int, set[str]]]
    output: str

    def covering(
        self, file: str, span: tuple[int, int], mutated: tuple[int, int] | None = None
    ) -> list[str]:
        """Return the tests executing any line of ``span`` in ``file``, fastest first.

        With ``mutated`` (the mutant's first and last line), the tests that
        reach the mutated statement come first (fastest first among them),
        then the others: a test that never runs the changed statement rarely
        tells the mutant apart, so in first-killer mode the killer is found
        sooner. Within each group the module's own test file
        (``test_pipes.py`` for ``_pipes.py``) goes first: its tests aim at
        the module, where another file's may only fail at their own bound
        (a hop-thread mutant cost about 10 s that way). Only the order
        changes, never the set.
        """
        by_line = self.lines.get(file, {})
        tests: set[str] = set()
        for line in range(span[0], span[1] + 1):
            tests |= by_line.get(line, set())
        tests &= set(self.durations)
        reach = self._reaching(by_line, span, mutated) if mutated else set()
        own = f"test_{pathlib.PurePosixPath(file).stem.lstrip('_')}.py"
        return sorted(
            tests,
            key=lambda t: (
                t not in reach,
                pathlib.PurePosixPath(t.split("::")[0]).name != own,
                speed_class(self.durations[t]),
                t,
            ),
        )

    @staticmethod
    def _reaching(
        by_line: dict[int, set[str]], span: tuple[int, int], mutated: tuple[int, int]
    ) -> set[str]:
        """Return the tests that run the statement(s) on the ``mutated`` lines.

        coverage.py records a statement on its first line, so a mutated
        continuation line (an argument of a call over several lines) counts
        as the nearest recorded line at or above it, within ``span``.
        """
        start = mutated[0]
        while start > span[0] and start not in by_line:
            start -= 1
        reach: set[str] = set()
        for line in range(start, max(mutated[1], start) + 1):
            reach |= by_line.get(line, set())
        return reach


_INSTANT_SECONDS = 0.05


def speed_class(seconds: float) -> int:
    """Return a coarse rank of a test's baseline duration (0: under 50 ms).

    Ranks double with the duration. Ordering by rank, then by node id, keeps
    "fastest first" while making the order (and so a mutant's first killer)
    the same from run to run: raw durations of near-equal tests swap places
    with the machine's load.
    """
    rank = 0
    limit = _INSTANT_SECONDS
    while seconds >= limit:
        rank += 1
        limit *= 2
    return rank


def body_spans(source: str) -> dict[str, tuple[int, int]]:
    """Map each function and ``Class.method`` to the lines of its body.

    The ``def`` line and decorators are left out: they run when the module
    is imported, not when a test calls the function.
    """
    spans: dict[str, tuple[int, int]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                spans[prefix + child.name] = (
                    child.body[0].lineno,
                    child.end_lineno or child.lineno,
                )
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(source), "")
    return spans


def _read_lines(workspace: pathlib.Path, config: KitConfig) -> dict[str, dict[int, set[str]]]:
    from coverage import CoverageData

    data = CoverageData(basename=str(workspace / ".kit-coverage"))
    data.read()
    lines: dict[str, dict[int, set[str]]] = {}
    for target in config.targets:
        measured = str((workspace / target).resolve())
        by_line: dict[int, set[str]] = {}
        for line, contexts in data.contexts_by_lineno(measured).items():
            named = {c for c in contexts if c}
            if named:
                by_line[line] = named
        lines[target] = by_line
    return lines


def _coverage_files(
    workspace: pathlib.Path, files: list[str], *contexts: str
) -> dict[str, typ.Any]:
    """Return coverage's JSON report of ``files``, counting only ``contexts`` if given.

    Only ``files`` are reported: the data holds every measured module of the
    package, and reporting all of them took 0.6 s a report, most of a
    review's coverage step, where one changed module takes 0.1 s.
    """
    report = workspace / ".kit-coverage.json"
    report.unlink(missing_ok=True)
    run_child(
        [
            sys.executable,
            "-m",
            "coverage",
            "json",
            "-q",
            "-o",
            str(report),
            f"--include={','.join(files)}",
            *([f"--contexts={','.join(contexts)}"] if contexts else []),
        ],
        cwd=workspace,
        env={"COVERAGE_FILE": str(workspace / ".kit-coverage")},
        timeout=120,
    )
    if not report.exists():
        return {}
    by_file: dict[str, typ.Any] = json.loads(report.read_text(encoding="utf-8"))["files"]
    return by_file


def function_percent(file_report: dict[str, typ.Any], function: str) -> float:
    """Return one function's branch coverage (its nested functions included).

    ``file_report`` is one file's entry of coverage's JSON report, whose
    ``functions`` section names methods ``Class.method`` and nested
    functions ``outer.inner``, as the kit does. A function the report does
    not know counts as uncovered, so a gate on it fails visibly.
    """
    parts = [
        entry["summary"]
        for name, entry in file_report.get("functions", {}).items()
        if name == function or name.startswith(function + ".")
    ]
    total = sum(p["num_statements"] + p.get("num_branches", 0) for p in parts)
    covered = sum(p["covered_lines"] + p.get("covered_branches", 0) for p in parts)
    return round(100.0 * covered / total, 2) if total else 0.0


def _percentages(
    workspace: pathlib.Path, config: KitConfig, functions: dict[str, set[str]] | None = None
) -> dict[str, float]:
    """Return each target's coverage by the tests that run against its mutants.

    A scoped test (``scoped_tests``) does not run against the other targets'
    mutants, so its lines must not count towards their coverage either: those
    targets are measured again with only the other tests' contexts (and the
    empty one, for what importing the module runs). With ``functions`` (a
    review whose baseline ran only the tests covering them) each of those
    functions is measured instead, keyed ``file:function``: a file's other
    functions were not exercised by the whole suite.
    """
    # A review reports only the files of its changed functions.
    files = sorted(f for f, names in functions.items() if names) if functions else []
    files = files or list(config.targets)
    whole = _coverage_files(workspace, files)
    unscoped = [t for t in files if t not in config.scoped_targets]
    shared = whole
    if config.scoped_tests and unscoped:
        tests = [t for t in config.tests if t not in config.scoped_tests]
        contexts = ["^$", *(f"^{re.escape(test)}::" for test in tests)]
        shared = _coverage_files(workspace, unscoped, *contexts)

    def report(target: str) -> dict[str, typ.Any]:
        found: dict[str, typ.Any] = (shared if target in unscoped else whole).get(target, {})
        return found

    if functions is not None:
        return {
            f"{file}:{name}": function_percent(report(file), name)
            for file, names in sorted(functions.items())
            for name in sorted(names)
        }
    percents: dict[str, float] = {}
    for target in config.targets:
        summary = report(target).get("summary")
        percents[target] = round(float(summary["percent_covered"]), 2) if summary else 0.0
    return percents


def _run_shard(
    workspace: pathlib.Path, config: KitConfig, index: int, tests: list[str]
) -> tuple[ChildRun, dict[str, dict[str, typ.Any]]]:
    """Run one shard's test files under coverage; return its run and records."""
    out = workspace / f".kit-baseline-{index}.json"
    completed = run_child(
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "--branch",
            # Each shard writes its own data file (.kit-coverage.<host>.<pid>.<n>).
            "--parallel-mode",
            f"--include={','.join(config.targets)}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            PLUGIN_NAME,
            *tests,
        ],
        cwd=workspace,
        env={"KIT_BASELINE_OUT": str(out), "COVERAGE_FILE": str(workspace / ".kit-coverage")},
        timeout=config.mutant_timeout * 4,
    )
    records: dict[str, dict[str, typ.Any]] = {}
    if out.exists():
        records = json.loads(out.read_text(encoding="utf-8"))["tests"]
        out.unlink()
    return completed, records


def _combine(workspace: pathlib.Path) -> None:
    """Merge the shards' coverage data files (contexts kept) into ``.kit-coverage``."""
    run_child(
        [sys.executable, "-m", "coverage", "combine", "-q"],
        cwd=workspace,
        env={"COVERAGE_FILE": str(workspace / ".kit-coverage")},
        timeout=120,
    )


def run_baseline(
    workspace: pathlib.Path,
    config: KitConfig,
    hints: dict[str, float] | None = None,
    *,
    only: list[str] | None = None,
    functions: dict[str, set[str]] | None = None,
) -> Baseline:
    """Run the configured tests under coverage in ``workspace`` (a pristine copy).

    The test files are split across ``config.jobs`` processes
    (:mod:`mutation.baseline_shards`, balanced by ``hints``: each file's, or
    each test's, seconds in the last run) and the shards' records and
    coverage merged.
    ``only`` (pytest node ids or files; a review's
    :mod:`mutation.review_scope`) runs those instead of every test, and
    ``functions`` measures coverage per function (see :func:`_percentages`).
    """
    install_plugin(workspace)
    # A review's few tests are split one by one (``hints`` then has their
    # seconds): one file's covering tests can be most of the time.
    items = list(config.tests) if only is None else only
    shards = partition(items, hints or {}, shard_count(items, hints or {}, config.jobs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(shards))) as pool:
        runs = list(pool.map(lambda pair: _run_shard(workspace, config, *pair), enumerate(shards)))
    output = "".join(run.stdout + run.stderr for run, _ in runs)
    records = {node: record for _, shard in runs for node, record in shard.items()}
    failures = [
        Killer(test=node, message=f"{r['phase']}: {r['message']}")
        for node, r in sorted(records.items())
        if r["outcome"] == "failed"
    ]
    durations = {
        node: round(float(r["duration"]), 4)
        for node, r in records.items()
        if r["outcome"] != "failed"
    }
    passed = all(run.returncode == 0 for run, _ in runs) and bool(records) and not failures
    coverage: dict[str, float] = {t: 0.0 for t in config.targets}
    lines: dict[str, dict[int, set[str]]] = {}
    if passed:
        _combine(workspace)
    if passed and (workspace / ".kit-coverage").exists():
        coverage = _percentages(workspace, config, functions)
        lines = _read_lines(workspace, config)
    return Baseline(passed, failures, durations, coverage, lines, output)
