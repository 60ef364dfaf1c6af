"""Write the Markdown, JSON and HTML reports of the last kit run.

Usage: ``python -m mutation.report [--results PATH] [--out DIR]
[--allow-stale] [--root DIR]``.

Exit status: 0 when the reports were written, 1 when they could not be
written, 2 on a usage error, 3 when the result file is missing, invalid or
stale (stale results are reported, with a STALE banner, only with
``--allow-stale``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import typing as typ

from mutation.report_common import STATUSES
from mutation.report_elements import build_elements_report
from mutation.report_html import render_html
from mutation.report_markdown import render_markdown
from mutation.results import (
    DEFAULT_RESULTS_PATH,
    InvalidResultsError,
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

SUMMARY_NAME = "summary.md"
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
        if mutant.origin not in {"mutmut", "catalogue"}:
            msg = f"mutant {mutant.id!r} has unknown origin {mutant.origin!r}"
            raise InvalidResultsError(msg)


def write_reports(
    results: Results,
    root: pathlib.Path,
    out: pathlib.Path,
    *,
    stale: typ.Sequence[str] = (),
) -> list[pathlib.Path]:
    """Write ``summary.md``, ``mutation-report.json`` and ``mutation-report.html``.

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

    Returns
    -------
    list[pathlib.Path]
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)
    outputs = {
        out / SUMMARY_NAME: render_markdown(results, stale=list(stale), root=root),
        out / JSON_NAME: json.dumps(build_elements_report(results, root, stale=stale), indent=2)
        + "\n",
        out / HTML_NAME: render_html(results, root, stale=stale),
    }
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    return list(outputs)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mutation.report",
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
        0 written, 1 write failure, 2 usage error, 3 missing, invalid or
        stale result file.
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
        written = write_reports(results, root, out, stale=stale)
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
