"""The mutation-testing-elements report (schema version 2).

The format Stryker and its viewer and dashboard read; see
``mutation-testing-report-schema.json``.  Every mutant (mutmut's, the
catalogue's, the generated operators', cargo-mutants') goes into the
``files`` entry of the file it mutates, with that file's language
(``rust`` for the Rust phase's files); Rust killers are listed under
``testFiles`` by the crate file that holds them.
"""

from __future__ import annotations

import importlib.metadata
import math
import pathlib
import typing as typ

from mutation.diff_text import differing_range, replacement_of
from mutation.report_common import (
    file_of_test,
    language_of,
    read_source,
    stale_banner_text,
    target_files,
)
from mutation.report_rust import rust_test_file
from mutation.results import MutantResult, Results
from mutation.rust_results import CARGO_MUTANTS_MARK

FRAMEWORK_NAME = "cuprum-mutation-kit"

ELEMENTS_STATUS: dict[str, str] = {
    "killed": "Killed",
    "survived": "Survived",
    "timeout": "Timeout",
    "no_tests": "NoCoverage",
    "error": "RuntimeError",
    "excused": "Ignored",
    "not_run": "Pending",
    "unviable": "CompileError",
}
"""The kit's statuses mapped to the schema's ``MutantStatus``."""

PHASES: dict[str, tuple[str, ...]] = {
    "setup": ("setup", "workspace"),
    "initialRun": ("initial_run", "baseline", "baseline+coverage", "rust:baseline"),
    "mutation": (
        "mutation",
        "mutmut",
        "catalogue",
        "attribution",
        "rust:cargo-mutants",
        "rust:rust-catalogue",
        "rust:cross-language",
    ),
}
"""Which ``Results.phases`` keys (seconds) add up to each schema phase."""

Json = dict[str, typ.Any]


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _framework(results: Results) -> Json:
    framework: Json = {"name": FRAMEWORK_NAME, "version": _version("cuprum") or "0"}
    dependencies: Json = {}
    mutmut = _version("mutmut")
    if mutmut is not None:
        dependencies["mutmut"] = mutmut
    if any(m.origin == "cargo-mutants" for m in results.mutants):
        from mutation.cargo_mutants import PINNED_VERSION

        dependencies["cargo-mutants"] = PINNED_VERSION
    if dependencies:
        framework["dependencies"] = dependencies
    return framework


def _thresholds(results: Results) -> Json:
    limits = [m.threshold for m in results.modules]
    if not limits:
        return {"high": 80, "low": 60}
    low = min(100, max(0, math.floor(min(limits) * 100)))
    high = min(100, max(low, math.ceil(max(limits) * 100)))
    return {"high": high, "low": low}


def _performance(results: Results) -> Json:
    return {
        name: round(sum(results.phases.get(k, 0.0) for k in keys) * 1000.0, 3)
        for name, keys in PHASES.items()
    }


def _offset_to_position(text: str, offset: int, first_line: int) -> Json:
    before = text[:offset]
    line = first_line + before.count("\n")
    column = offset - (before.rfind("\n") + 1) + 1
    return {"line": line, "column": column}


def locate(mutant: MutantResult, lines: list[str]) -> tuple[Json, str]:
    """Return the schema ``location`` and ``replacement`` of ``mutant``.

    When the mutant's columns are known, its recorded span is used as is.
    Otherwise, when ``mutant.original`` occurs within the mutant's lines, the location
    is narrowed to the part that differs from ``mutant.replacement`` (so a
    viewer shows ``==`` -> ``!=`` rather than the whole line); otherwise it
    spans the whole lines and the replacement is given as recorded.

    Parameters
    ----------
    mutant
        The mutant.
    lines
        The unmutated file's lines (without line ends).

    Returns
    -------
    tuple[dict, str]
        ``{"start": {"line", "column"}, "end": {...}}`` (1-based, end
        exclusive) and the text that replaces that range.
    """
    if mutant.column_start > 0 and mutant.diff:
        # The kit computed the exact span from the diff (mutation.locations).
        location = {
            "start": {"line": mutant.line_start, "column": mutant.column_start},
            "end": {"line": mutant.line_end, "column": mutant.column_end + 1},
        }
        return location, replacement_of(mutant.diff)
    first = max(mutant.line_start, 1)
    last = max(mutant.line_end, first)
    original = mutant.original.rstrip("\n")
    replacement = mutant.replacement
    if mutant.original.endswith("\n"):
        replacement = replacement.removesuffix("\n")
    span = "\n".join(lines[first - 1 : last])
    found = span.find(original) if original and first <= len(lines) else -1
    if found >= 0:
        prefix, suffix = differing_range(original, replacement)
        start = found + prefix
        end = found + len(original) - suffix
        location = {
            "start": _offset_to_position(span, start, first),
            "end": _offset_to_position(span, end, first),
        }
        return location, replacement[prefix : len(replacement) - suffix]
    end_text = lines[last - 1] if last <= len(lines) else ""
    location = {
        "start": {"line": first, "column": 1},
        "end": {"line": last, "column": len(end_text) + 1},
    }
    return location, replacement


def status_reason(mutant: MutantResult) -> str:
    """Explain a mutant's status in one text (the schema's ``statusReason``).

    Parameters
    ----------
    mutant
        The mutant.

    Returns
    -------
    str
        Killers' messages, the excuse, the recorded detail or a default.
    """
    if mutant.status == "killed" and mutant.killers:
        return "\n".join(f"{k.test}: {k.message}".rstrip() for k in mutant.killers)
    if mutant.status == "excused":
        return mutant.excuse or "excused"
    defaults = {
        "killed": "a test failed",
        "survived": "every selected test passed",
        "timeout": "the tests timed out",
        "no_tests": "no test covers this mutant",
        "error": "the run errored",
        "not_run": "outside this run's selection",
        "unviable": "the mutant does not build",
    }
    return mutant.detail or defaults.get(mutant.status, mutant.status)


def mutant_entry(mutant: MutantResult, lines: list[str]) -> Json:
    """Return one schema ``MutantResult`` object.

    Parameters
    ----------
    mutant
        The kit's mutant record.
    lines
        The unmutated file's lines.

    Returns
    -------
    dict
        Id, mutator, replacement, location, status with reason, killers and
        duration (milliseconds).  ``coveredBy`` is only given when known: the
        killers of a killed mutant (a lower bound) or nothing for ``no_tests``.
    """
    killed_by = list(dict.fromkeys(k.test for k in mutant.killers))
    location, replacement = locate(mutant, lines)
    if mutant.origin == "cargo-mutants":
        replacement = replacement.replace(CARGO_MUTANTS_MARK, "")
    entry: Json = {
        "id": mutant.id,
        "mutatorName": _mutator_name(mutant),
        "replacement": replacement,
        "location": location,
        "status": ELEMENTS_STATUS[mutant.status],
        "statusReason": status_reason(mutant),
        "killedBy": killed_by,
        "duration": round(mutant.duration * 1000.0, 3),
        "description": _description(mutant),
    }
    if mutant.status == "killed":
        entry["coveredBy"] = killed_by
    elif mutant.status == "no_tests":
        entry["coveredBy"] = []
    return entry


def _mutator_name(mutant: MutantResult) -> str:
    if mutant.origin == "catalogue":
        return f"catalogue:{mutant.id}"
    return mutant.mutator or "mutmut"


def _description(mutant: MutantResult) -> str:
    if mutant.origin == "catalogue":
        return mutant.claim or f"catalogue entry {mutant.id}"
    if mutant.origin == "cargo-mutants":
        # cargo-mutants names say what changed: "src/pump.rs:12:5: replace f -> bool with true".
        return mutant.id.split(": ", 1)[-1]
    where = mutant.function or mutant.file
    return f"{mutant.mutator or 'mutmut mutant'} in {where}"


def _test_files(results: Results, root: pathlib.Path) -> Json:
    home: dict[str, str] = {}
    for record in results.tests:
        home[record.test] = record.file or file_of_test(record.test)
    for mutant in results.mutants:
        for killer in mutant.killers:
            file = (
                rust_test_file(killer.test, mutant.file, root)
                if killer.language == "rust"
                else file_of_test(killer.test)
            )
            home.setdefault(killer.test, file)
    by_file: dict[str, list[Json]] = {}
    for test_id, file in sorted(home.items()):
        name = test_id.split("::", 1)[-1]
        by_file.setdefault(file, []).append({"id": test_id, "name": name})
    return {file: {"tests": tests} for file, tests in sorted(by_file.items())}


def build_elements_report(
    results: Results,
    root: pathlib.Path,
    *,
    stale: typ.Sequence[str] = (),
) -> Json:
    """Build the mutation-testing-elements report (schema version 2).

    Parameters
    ----------
    results
        A loaded result file.
    root
        The project root; each target file's source is read from here.
    stale
        Inputs changed since the run; when non-empty the report opens with a
        ``staleWarning`` key (the schema allows extra keys) and lists them in
        ``config``.

    Returns
    -------
    dict
        A JSON-ready document valid against the schema.
    """
    report: Json = {}
    if stale:
        report["staleWarning"] = stale_banner_text(stale)
        report["staleInputs"] = list(stale)
    report["schemaVersion"] = "2"
    report["thresholds"] = _thresholds(results)
    report["projectRoot"] = str(root.resolve())
    files: Json = {}
    for file in target_files((m.file for m in results.modules), results.mutants):
        source = read_source(root, file)
        lines = [] if source is None else source.splitlines()
        files[file] = {
            "language": language_of(file, (m for m in results.mutants if m.file == file)),
            "source": source or "",
            "mutants": [mutant_entry(m, lines) for m in results.mutants if m.file == file],
        }
    report["files"] = files
    report["testFiles"] = _test_files(results, root)
    report["performance"] = _performance(results)
    report["framework"] = _framework(results)
    report["config"] = {
        "created": results.created,
        "resultsSchema": results.schema,
        "inputsDigest": results.inputs_digest,
        "selection": list(results.selection),
        "stale": list(stale),
    }
    return report
