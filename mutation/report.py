"""Write the Markdown, JSON and HTML reports of the last kit run.

Usage: ``python -m mutation.report [--results PATH] [--out DIR]
[--allow-stale] [--root DIR] [--full] [--previous PATH] [--baseline PATH]
[--annotations] [--rust-results PATH]`` (also ``python -m mutation report ...``).

Writes ``summary.md`` (sized for a pull-request comment; ``--full``: every
block, for a CI job summary), ``summary-full.md`` (always every block),
``mutation-report.json`` (mutation-testing-elements) and
``mutation-report.html``.  The trend compares with the ratchet baseline's
mutant outcomes (``mutation/baseline-mutants.json``) or ``--previous``.
``--annotations`` writes nothing and prints GitHub workflow commands for the
survivors instead.

The Rust phase's result file (``make mutate-rust``; ``[mutation.rust]
results`` in ``setup.cfg``, by default ``mutation/results/rust.json``) is
read too when it exists: its mutants join every report (Rust files with
their language, real locations and killers), its gates and scores get a
section of their own. Without it the reports cover Python only and say so.
The trend compares the Python mutants only (the baseline snapshot holds no
Rust ones).

Before anything is written, every mutant's recorded location is checked
against the source (:mod:`mutation.locations`); a wrong one is refused.

Exit status: 0 when the reports (or annotations) were written, 1 when they
could not be written, 2 on a usage error, 3 when the result file is missing,
invalid, stale (stale results are reported, with a STALE banner, only with
``--allow-stale``) or locates a mutant wrongly, or when the Rust result file
is present but invalid, stale or wrongly located (same rules).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import typing as typ

from mutation.locations import LocationError, require_valid_locations
from mutation.ratchet import load_baseline
from mutation.report_annotations import workflow_commands
from mutation.report_common import STATUSES, read_source
from mutation.report_elements import build_elements_report
from mutation.report_html import render_html
from mutation.report_markdown import render_markdown
from mutation.report_rust import RustOutcome, combine, rust_for_report
from mutation.report_trend import Trend, compare, load_outcomes, snapshot_path
from mutation.results import (
    DEFAULT_RESULTS_PATH,
    InvalidResultsError,
    Origin,
    Results,
    load_results,
    stale_inputs,
)

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_WRITE",
    "build_elements_report",
    "check_results",
    "load_trend",
    "main",
    "render_html",
    "render_markdown",
    "stale_for",
    "write_reports",
]

EXIT_OK = 0
EXIT_WRITE = 1
EXIT_USAGE = 2
EXIT_INVALID = 3

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = pathlib.Path("mutation/results/report")
DEFAULT_BASELINE = pathlib.Path("mutation/baseline.json")

SUMMARY_NAME = "summary.md"
FULL_SUMMARY_NAME = "summary-full.md"
JSON_NAME = "mutation-report.json"
HTML_NAME = "mutation-report.html"


def stale_for(results: Results, root: pathlib.Path) -> list[str]:
    """Return the recorded inputs that changed or vanished since the run.

    Parameters
    ----------
    results
        A loaded result file.
    root
        The project root.

    Returns
    -------
    list[str]
        Sorted changed paths; empty when the results are current.
    """
    groups = {group: sorted(files) for group, files in results.inputs.items()}
    return stale_inputs(results, root, groups)


def check_results(results: Results) -> None:
    """Reject a result file whose mutants carry unknown statuses or origins.

    Parameters
    ----------
    results
        A loaded result file.

    Raises
    ------
    InvalidResultsError
        On the first unknown status or origin.
    """
    for mutant in results.mutants:
        if mutant.status not in STATUSES:
            msg = f"mutant {mutant.id!r} has unknown status {mutant.status!r}"
            raise InvalidResultsError(msg)
        if mutant.origin not in typ.get_args(Origin):
            msg = f"mutant {mutant.id!r} has unknown origin {mutant.origin!r}"
            raise InvalidResultsError(msg)


def check_locations(results: Results, root: pathlib.Path) -> None:
    """Refuse a result file that places a mutant on the wrong line.

    Parameters
    ----------
    results
        A loaded result file whose inputs are current.
    root
        The project root (the unmutated sources).

    Raises
    ------
    InvalidResultsError
        Naming every wrongly located mutant.
    """
    try:
        require_valid_locations(results.mutants, lambda file: read_source(root, file))
    except LocationError as exc:
        raise InvalidResultsError(str(exc)) from None


def load_trend(
    results: Results,
    baseline: pathlib.Path,
    previous: pathlib.Path | None = None,
) -> Trend:
    """Compare ``results`` with the baseline's mutant outcomes.

    Parameters
    ----------
    results
        A loaded result file.
    baseline
        The ratchet's score baseline; its mutant snapshot lies beside it.
    previous
        A snapshot or result file to compare with instead of the snapshot.

    Returns
    -------
    Trend
        Unknown (with a note) when no snapshot is recorded.

    Raises
    ------
    InvalidResultsError
        If ``previous`` (or the snapshot) is unreadable, or the score
        baseline is invalid.
    """
    scores: dict[str, float] = {}
    if baseline.exists():
        try:
            scores = load_baseline(baseline)
        except ValueError as exc:
            raise InvalidResultsError(str(exc)) from None
    source = previous or snapshot_path(baseline)
    if previous is None and not source.exists():
        return compare(None, results, scores=scores)
    outcomes, created = load_outcomes(source)
    return compare(outcomes, results, since=created, scores=scores)


def write_reports(
    results: Results,
    root: pathlib.Path,
    out: pathlib.Path,
    *,
    stale: typ.Sequence[str] = (),
    full: bool = False,
    trend: Trend | None = None,
    rust: Results | None = None,
    rust_note: str = "",
) -> list[pathlib.Path]:
    """Write the summaries, ``mutation-report.json`` and ``mutation-report.html``.

    Parameters
    ----------
    results
        A loaded, checked result file.
    root
        The project root (source files are read from here).
    out
        The output directory (created when missing).
    stale
        Changed inputs; non-empty puts a STALE banner atop every output.
    full
        Make ``summary.md`` the full summary rather than the PR-sized one.
    trend
        The comparison with the baseline, shown in the summaries and page.
    rust
        The Rust phase's results, merged into every report.
    rust_note
        Said in the summaries and page when there are no Rust results.

    Returns
    -------
    list[pathlib.Path]
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)

    def summary(whole: bool) -> str:
        return render_markdown(
            results,
            stale=list(stale),
            root=root,
            full=whole,
            trend=trend,
            rust=rust,
            rust_note=rust_note,
        )

    full_text = summary(True)
    elements = build_elements_report(combine(results, rust), root, stale=stale)
    page = render_html(results, root, stale=stale, trend=trend, rust=rust, rust_note=rust_note)
    outputs = {
        out / SUMMARY_NAME: full_text if full else summary(False),
        out / FULL_SUMMARY_NAME: full_text,
        out / JSON_NAME: json.dumps(elements, indent=2) + "\n",
        out / HTML_NAME: page,
    }
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    return list(outputs)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mutation report",
        description="Write Markdown, JSON and HTML reports of the last kit run.",
    )
    parser.add_argument(
        "--results",
        type=pathlib.Path,
        help=f"result file (default: <root>/{DEFAULT_RESULTS_PATH})",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        help=f"output directory (default: <root>/{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--allow-stale",
        action="store_true",
        help="report stale results (with a STALE banner) instead of refusing",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="summary.md keeps every block (a CI job summary), not the PR-sized cut",
    )
    parser.add_argument(
        "--annotations",
        action="store_true",
        help="print GitHub workflow commands for survivors instead of writing reports",
    )
    parser.add_argument(
        "--previous",
        type=pathlib.Path,
        help="mutant snapshot or result file to compare with "
        "(default: the baseline's mutation/baseline-mutants.json)",
    )
    parser.add_argument(
        "--baseline",
        type=pathlib.Path,
        help=f"ratchet score baseline (default: <root>/{DEFAULT_BASELINE})",
    )
    parser.add_argument(
        "--rust-results",
        type=pathlib.Path,
        help="the Rust phase's result file (default: [mutation.rust] results in "
        "setup.cfg, else <root>/mutation/results/rust.json)",
    )
    parser.add_argument(
        "--root",
        type=pathlib.Path,
        default=PROJECT_ROOT,
        help="project root (default: the checkout holding this kit)",
    )
    return parser


def _parse(argv: typ.Sequence[str] | None) -> argparse.Namespace | int:
    try:
        return _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def main(argv: typ.Sequence[str] | None = None) -> int:
    """Run the report command.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 written (or annotations printed), 1 write failure, 2 usage error,
        3 missing, invalid or stale result file, or a wrong mutant location.
    """
    args = _parse(argv)
    if isinstance(args, int):
        return args
    root: pathlib.Path = args.root
    path: pathlib.Path = args.results or root / DEFAULT_RESULTS_PATH
    out: pathlib.Path = args.out or root / DEFAULT_OUT
    try:
        results = load_results(path)
        check_results(results)
    except InvalidResultsError as exc:
        print(f"mutation.report: {exc}", file=sys.stderr)
        return EXIT_INVALID
    stale = stale_for(results, root)
    if stale and not args.allow_stale:
        print(
            f"mutation.report: {path} is stale; changed since the run: "
            + ", ".join(stale)
            + "\nre-run `make mutate`, or pass --allow-stale to report anyway",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        rust = rust_for_report(root, args.rust_results, allow_stale=args.allow_stale)
        if not stale:
            # Changed sources may legitimately disagree with old locations.
            check_locations(results, root)
        trend = load_trend(results, args.baseline or root / DEFAULT_BASELINE, args.previous)
    except InvalidResultsError as exc:
        print(f"mutation.report: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if rust.note:
        # Annotations own stdout (GitHub reads it); the note goes beside them.
        print(f"mutation.report: {rust.note}", file=sys.stderr if args.annotations else sys.stdout)
    if args.annotations:
        for command in workflow_commands(combine(results, rust.results)):
            print(command)
        return EXIT_OK
    return _write(results, root, out, args, stale=stale, trend=trend, rust=rust)


def _write(
    results: Results,
    root: pathlib.Path,
    out: pathlib.Path,
    args: argparse.Namespace,
    *,
    stale: list[str],
    trend: Trend,
    rust: RustOutcome,
) -> int:
    stale = [*stale, *(f"{rust.path.name}: {name}" for name in rust.stale)]
    try:
        written = write_reports(
            results,
            root,
            out,
            stale=stale,
            full=args.full,
            trend=trend,
            rust=rust.results,
            rust_note=rust.note,
        )
    except OSError as exc:
        print(f"mutation.report: cannot write reports: {exc}", file=sys.stderr)
        return EXIT_WRITE
    if stale:
        print("mutation.report: STALE results reported (--allow-stale)")
    for written_path in written:
        print(f"wrote {written_path}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
