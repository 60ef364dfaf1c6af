"""The Rust phase in the reports: its result file, merged with Python's.

``python -m mutation report`` reads the Rust phase's result file
(``[mutation.rust] results``, by default ``mutation/results/rust.json``)
beside the Python one. :func:`load_rust` refuses an invalid one and says
what changed in a stale one; :func:`combine` merges its mutants, scores and
gates into the Python results, so every report (Markdown, JSON, HTML,
annotations) shows both languages; :func:`rust_markdown` and
:func:`rust_html` lay out the Rust gates and scores apart, since they are
scored apart (unviable mutants listed, never scored).
"""

from __future__ import annotations

import dataclasses
import html
import pathlib

from mutation.config import ConfigError
from mutation.locations import LocationError, require_valid_locations
from mutation.report_common import STATUS_LABELS, count_statuses, read_source
from mutation.report_markdown_blocks import cell, code
from mutation.results import InvalidResultsError, Results, load_results
from mutation.rust_config import load_rust_config
from mutation.rust_results import rust_stale

DEFAULT_RUST_RESULTS = pathlib.Path("mutation/results/rust.json")
"""Where the Rust phase writes its results when ``setup.cfg`` does not say."""

PHASE_PREFIX = "rust:"
"""Prefix of the Rust phase's timings in the merged ``Results.phases``."""

NOT_RUN_NOTE = (
    "The Rust phase has not run (`make mutate-rust`): these reports cover Python mutants only."
)

CRASHED_BINARY = " (test binary)"
"""How the kit names a test binary that died (:mod:`mutation.cargo_test_log`)."""

esc = html.escape


@dataclasses.dataclass
class RustOutcome:
    """The Rust phase's result file as the reports found it.

    ``results`` is ``None`` when the file is absent (``note`` says so);
    ``stale`` names what changed since the phase ran.
    """

    path: pathlib.Path
    results: Results | None
    stale: list[str] = dataclasses.field(default_factory=list)
    note: str = ""


def _configured_path(root: pathlib.Path) -> pathlib.Path:
    try:
        return root / load_rust_config(root).results
    except ConfigError:
        return root / DEFAULT_RUST_RESULTS


def load_rust(root: pathlib.Path, path: pathlib.Path | None = None) -> RustOutcome:
    """Read the Rust phase's result file, if there is one, and check it.

    Parameters
    ----------
    root
        The project root (its ``setup.cfg`` names the file and the inputs).
    path
        The file to read instead of the configured one.

    Returns
    -------
    RustOutcome
        Without results (and with a note) when the file does not exist.

    Raises
    ------
    InvalidResultsError
        If the file is unreadable, of another schema, holds a mutant that
        is not a Rust one, or cannot be checked for freshness (no valid
        ``[mutation.rust]`` section).
    """
    where = path or _configured_path(root)
    if not where.exists():
        return RustOutcome(where, None, note=NOT_RUN_NOTE)
    try:
        results = load_results(where)
    except InvalidResultsError as exc:
        msg = f"{where}: {exc}; re-run `make mutate-rust`"
        raise InvalidResultsError(msg) from None
    for mutant in results.mutants:
        if mutant.language != "rust":
            msg = (
                f"{where}: mutant {mutant.id!r} is a {mutant.language} mutant; a Rust result "
                "file holds Rust mutants only (pass the Python one with --results)"
            )
            raise InvalidResultsError(msg)
    try:
        config = load_rust_config(root)
    except ConfigError as exc:
        msg = f"{where}: cannot check that the Rust results are current: {exc}"
        raise InvalidResultsError(msg) from None
    return RustOutcome(where, results, stale=rust_stale(results, config))


def check_rust_locations(outcome: RustOutcome, root: pathlib.Path) -> None:
    """Refuse Rust results that place a mutant where its diff does not change.

    Raises
    ------
    InvalidResultsError
        Naming every wrongly located mutant.
    """
    if outcome.results is None:
        return
    try:
        require_valid_locations(outcome.results.mutants, lambda file: read_source(root, file))
    except LocationError as exc:
        text = str(exc).replace("`make mutate`", "`make mutate-rust`")
        msg = f"{outcome.path}: {text}"
        raise InvalidResultsError(msg) from None


def rust_for_report(
    root: pathlib.Path, path: pathlib.Path | None, *, allow_stale: bool
) -> RustOutcome:
    """Load the Rust results for the reports: current and rightly placed, or refused.

    Parameters
    ----------
    root
        The project root.
    path
        The file to read instead of the configured one.
    allow_stale
        Report stale Rust results (their locations are then not checked:
        changed sources may legitimately disagree with them).

    Returns
    -------
    RustOutcome
        The loaded (or absent) Rust results.

    Raises
    ------
    InvalidResultsError
        Invalid, stale without ``allow_stale``, or wrongly placed results;
        one message says what and what to do.
    """
    outcome = load_rust(root, path)
    if outcome.stale and not allow_stale:
        msg = (
            f"{outcome.path} is stale; changed since the Rust phase ran: "
            + ", ".join(outcome.stale)
            + "\nre-run `make mutate-rust`, or pass --allow-stale to report anyway"
        )
        raise InvalidResultsError(msg)
    if not outcome.stale:
        check_rust_locations(outcome, root)
    return outcome


def combine(python: Results, rust: Results | None) -> Results:
    """Return ``python`` with the Rust phase's mutants, scores, gates and timings added.

    Parameters
    ----------
    python
        The Python phase's results.
    rust
        The Rust phase's results, or ``None`` (then ``python`` is returned).

    Returns
    -------
    Results
        A new object; neither input is changed. Inputs and creation time
        stay Python's; the Rust timings are prefixed :data:`PHASE_PREFIX`.
    """
    if rust is None:
        return python
    return dataclasses.replace(
        python,
        phases={**python.phases, **{PHASE_PREFIX + k: v for k, v in rust.phases.items()}},
        modules=[*python.modules, *rust.modules],
        mutants=[*python.mutants, *rust.mutants],
        tests=[*python.tests, *rust.tests],
        gates=[*python.gates, *rust.gates],
    )


def cross_language_kills(rust: Results) -> int:
    """Count Rust mutants that only a Python test killed (``cargo test`` missed them)."""
    return sum(
        1
        for m in rust.mutants
        if m.status == "killed" and m.killers and all(k.language == "python" for k in m.killers)
    )


def _unviable(rust: Results, file: str) -> int:
    return sum(1 for m in rust.mutants if m.file == file and m.status == "unviable")


def _tally(rust: Results) -> str:
    counts = count_statuses(rust.mutants)
    return ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in counts.items() if n)


def _verdict(passed: bool) -> str:
    return "✅ pass" if passed else "❌ fail"


def rust_markdown(rust: Results | None, note: str = "") -> list[str]:
    """Return the summary's Rust section: its gates and per-file scores.

    Parameters
    ----------
    rust
        The Rust phase's results, or ``None``.
    note
        What to say when there are none.

    Returns
    -------
    list[str]
        Markdown lines (empty when there is neither results nor a note).
    """
    if rust is None:
        return ["### Rust phase", "", note, ""] if note else []
    tally = _tally(rust)
    lines = [
        "### Rust phase (cargo-mutants, Rust must-kill catalogue)",
        "",
        f"Run of {rust.created}: {len(rust.mutants)} Rust mutants"
        + (f" ({tally})" if tally else "")
        + f"; {cross_language_kills(rust)} killed only by a Python test (cross-language). "
        "Scored apart from Python; unviable mutants (they do not build) are listed, not scored.",
        "",
    ]
    if rust.gates:
        lines.extend(["| Rust gate | Verdict | Detail |", "|---|---|---|"])
        lines.extend(
            f"| {cell(g.name)} | {_verdict(g.passed)} | {cell(g.detail)} |" for g in rust.gates
        )
        lines.append("")
    if rust.modules:
        lines.extend(
            [
                "| Rust file | Score | Threshold | Verdict | Killed | Survived | Timeout "
                "| Error | Excused | Unviable (not scored) | Total |",
                "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
        )
        lines.extend(
            f"| {code(m.file)} | {m.score * 100:.1f}% | {m.threshold * 100:.1f}% "
            f"| {_verdict(m.score >= m.threshold)} | {m.killed} | {m.survived} | {m.timeout} "
            f"| {m.error} | {m.excused} | {_unviable(rust, m.file)} | {m.total} |"
            for m in rust.modules
        )
        lines.append("")
    return lines


def rust_html(rust: Results | None, note: str = "") -> str:
    """Return the page's Rust section: its gates and per-file scores.

    Parameters
    ----------
    rust
        The Rust phase's results, or ``None``.
    note
        What to say when there are none.

    Returns
    -------
    str
        ``<section id="rust-phase">`` (empty text when there is nothing to show).
    """
    if rust is None:
        return f'<section id="rust-phase"><p class="note">{esc(note)}</p></section>' if note else ""
    verdict = {
        True: '<span class="pass">pass</span>',
        False: '<span class="fail">fail</span>',
    }
    parts = [
        '<section id="rust-phase"><h2>Rust phase</h2>',
        f'<p class="note">Run of {esc(rust.created)}: {len(rust.mutants)} Rust mutants '
        f"({esc(_tally(rust))}); {cross_language_kills(rust)} killed only by a Python test. "
        "Unviable mutants do not build: listed, not scored.</p>",
        '<table class="grid" id="rust-gates"><tr><th>Rust gate</th><th>Verdict</th>'
        "<th>Detail</th></tr>",
        *(
            f"<tr><td>{esc(g.name)}</td><td>{verdict[g.passed]}</td><td>{esc(g.detail)}</td></tr>"
            for g in rust.gates
        ),
        "</table>",
        '<table class="grid" id="rust-modules"><tr><th>Rust file</th><th class=num>Score</th>'
        "<th class=num>Threshold</th><th>Verdict</th><th class=num>Killed</th>"
        "<th class=num>Survived</th><th class=num>Timeout</th><th class=num>Error</th>"
        "<th class=num>Excused</th><th class=num>Unviable</th><th class=num>Total</th></tr>",
        *(
            f"<tr><td><code>{esc(m.file)}</code></td><td class=num>{m.score * 100:.1f}%</td>"
            f"<td class=num>{m.threshold * 100:.1f}%</td>"
            f"<td>{verdict[m.score >= m.threshold]}</td><td class=num>{m.killed}</td>"
            f"<td class=num>{m.survived}</td><td class=num>{m.timeout}</td>"
            f"<td class=num>{m.error}</td><td class=num>{m.excused}</td>"
            f"<td class=num>{_unviable(rust, m.file)}</td><td class=num>{m.total}</td></tr>"
            for m in rust.modules
        ),
        "</table></section>",
    ]
    return "\n".join(parts)


def rust_test_file(test: str, mutant_file: str, root: pathlib.Path) -> str:
    """Return the file that holds a Rust test named as the kit names it.

    ``lib::tests::x`` lives in the crate's ``src/lib.rs``; ``pump::signals::x``
    in ``tests/pump/signals.rs`` (or ``tests/pump/main.rs``, ``tests/pump.rs``);
    a crashed binary, ``pump (test binary)``, in ``tests/pump/main.rs``.

    Parameters
    ----------
    test
        A Rust killer's name, qualified by its test binary.
    mutant_file
        The mutated file (``<crate>/src/...``), which locates the crate.
    root
        The project root.

    Returns
    -------
    str
        A repo-relative path; the crate's ``tests/<binary>`` when no file is found.
    """
    crate = mutant_file.split("/src/", 1)[0] if "/src/" in mutant_file else ""
    prefix = f"{crate}/" if crate else ""
    binary, _, rest = test.removesuffix(CRASHED_BINARY).partition("::")
    if binary == "lib":
        return f"{prefix}src/lib.rs"
    module = rest.split("::", 1)[0] if "::" in rest else ""
    candidates = [
        f"{prefix}tests/{binary}/{module}.rs" if module else "",
        f"{prefix}tests/{binary}/main.rs",
        f"{prefix}tests/{binary}.rs",
    ]
    for candidate in candidates:
        if candidate and (root / candidate).is_file():
            return candidate
    return f"{prefix}tests/{binary}"


__all__ = [
    "DEFAULT_RUST_RESULTS",
    "NOT_RUN_NOTE",
    "RustOutcome",
    "check_rust_locations",
    "combine",
    "cross_language_kills",
    "load_rust",
    "rust_for_report",
    "rust_html",
    "rust_markdown",
    "rust_test_file",
]
