"""The mutation-testing-elements JSON report, validated against its schema."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import typing as typ

import jsonschema
import pytest

from mutation.locations import differing_range
from mutation.report_elements import build_elements_report
from mutation.results import Results
from mutation.tests.factories import (
    BACKEND,
    BACKEND_SOURCE,
    FALLBACK_TEST,
    STREAMS,
    line_of,
    make_results,
    write_project,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_NAME = "shared/schemas/mutation-testing-report-schema.json"


def _find_schema() -> pathlib.Path:
    """``shared/`` lies beside the checkout (here and in CI); look upwards."""
    for ancestor in REPO.parents:
        if (ancestor / SCHEMA_NAME).is_file():
            return ancestor / SCHEMA_NAME
    return REPO.parent / SCHEMA_NAME


SCHEMA_PATH = _find_schema()

Json = dict[str, typ.Any]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    if not SCHEMA_PATH.is_file():
        if os.environ.get("CI") == "true":
            # CI lays shared/ beside the clone: a missing schema there is a
            # broken set-up, not a reason to skip validation.
            pytest.fail(f"report schema not found at {SCHEMA_PATH} in CI")
        pytest.skip(f"report schema not found at {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_project(tmp_path)


@pytest.fixture
def results(project: pathlib.Path) -> Results:
    return make_results(project)


@pytest.fixture
def report(results: Results, project: pathlib.Path) -> Json:
    # Through JSON text, as written to disk.
    built = json.loads(json.dumps(build_elements_report(results, project)))
    assert isinstance(built, dict)
    return built


def by_id(report: Json) -> dict[str, Json]:
    return {m["id"]: m for entry in report["files"].values() for m in entry["mutants"]}


def test_valid_against_schema(validator: jsonschema.Draft7Validator, report: Json) -> None:
    validator.validate(report)
    assert report["schemaVersion"] == "2"
    assert report["framework"]["name"] == "cuprum-mutation-kit"


@pytest.mark.parametrize(
    "breakage",
    ["bogus status", "no files", "no location", "string line", "threshold 101"],
)
def test_broken_reports_are_rejected(
    validator: jsonschema.Draft7Validator, report: Json, breakage: str
) -> None:
    broken = copy.deepcopy(report)
    mutant = broken["files"][BACKEND]["mutants"][0]
    if breakage == "bogus status":
        mutant["status"] = "Bogus"
    elif breakage == "no files":
        del broken["files"]
    elif breakage == "no location":
        del mutant["location"]
    elif breakage == "string line":
        mutant["location"]["start"]["line"] = "7"
    else:
        broken["thresholds"]["high"] = 101
    assert not validator.is_valid(broken)


def test_statuses_are_mapped(report: Json, results: Results) -> None:
    expected = {
        "killed": "Killed",
        "survived": "Survived",
        "timeout": "Timeout",
        "no_tests": "NoCoverage",
        "error": "RuntimeError",
        "excused": "Ignored",
        "not_run": "Pending",
    }
    mutants = by_id(report)
    assert set(mutants) == {m.id for m in results.mutants}
    for mutant in results.mutants:
        assert mutants[mutant.id]["status"] == expected[mutant.status]


def test_killers_are_declared_tests(report: Json) -> None:
    declared = {test["id"] for entry in report["testFiles"].values() for test in entry["tests"]}
    mutants = by_id(report)
    for mutant in mutants.values():
        assert set(mutant["killedBy"]) <= declared
        assert set(mutant.get("coveredBy", [])) <= declared
    assert mutants["fallback-flipped"]["killedBy"] == [FALLBACK_TEST]
    assert mutants["fallback-flipped"]["coveredBy"] == [FALLBACK_TEST]
    assert mutants["cuprum._backend.x_unused__mutmut_1"]["coveredBy"] == []
    assert "coveredBy" not in mutants["cuprum._backend.x__available__mutmut_1"]
    tests = report["testFiles"]["tests/behaviour/test_pathway.py"]["tests"]
    assert tests == [{"id": FALLBACK_TEST, "name": "test_fallback[python]"}]


def test_catalogue_mutants_share_the_file(report: Json) -> None:
    mutants = by_id(report)
    flipped = mutants["fallback-flipped"]
    assert flipped["mutatorName"] == "catalogue:fallback-flipped"
    assert flipped["description"] == "A missing extension falls back to the Python pump"
    assert "AssertionError" in flipped["statusReason"]
    assert flipped["duration"] == 1500.0
    ids = [m["id"] for m in report["files"][BACKEND]["mutants"]]
    assert {"fallback-flipped", "env-var-ignored"} <= set(ids)


def test_sources_and_locations(report: Json) -> None:
    assert report["files"][BACKEND]["source"] == BACKEND_SOURCE
    assert report["files"][BACKEND]["language"] == "python"
    assert report["files"][STREAMS]["mutants"] == []
    lt = by_id(report)["cuprum._backend.x__available__mutmut_1"]
    line = line_of(BACKEND_SOURCE, "< 20")
    column = BACKEND_SOURCE.splitlines()[line - 1].index("< 20") + 1
    assert lt["location"] == {
        "start": {"line": line, "column": column},
        "end": {"line": line, "column": column + 1},
    }
    assert lt["replacement"] == "<="
    flipped = by_id(report)["fallback-flipped"]
    assert flipped["replacement"] == "or"


def test_whole_lines_when_original_not_found(results: Results, project: pathlib.Path) -> None:
    results.mutants[0].original = "text that is not in the file"
    report = build_elements_report(results, project)
    mutant = report["files"][BACKEND]["mutants"][0]
    line = results.mutants[0].line_start
    width = len(BACKEND_SOURCE.splitlines()[line - 1])
    assert mutant["location"] == {
        "start": {"line": line, "column": 1},
        "end": {"line": line, "column": width + 1},
    }
    assert mutant["replacement"] == results.mutants[0].replacement


def test_missing_source_still_valid(
    validator: jsonschema.Draft7Validator, results: Results, project: pathlib.Path
) -> None:
    (project / BACKEND).unlink()
    report = build_elements_report(results, project)
    validator.validate(report)
    assert report["files"][BACKEND]["source"] == ""


def test_performance_thresholds_and_stale(
    validator: jsonschema.Draft7Validator, results: Results, project: pathlib.Path
) -> None:
    report = build_elements_report(results, project, stale=[BACKEND])
    validator.validate(report)
    assert next(iter(report)) == "staleWarning"
    assert "STALE" in report["staleWarning"]
    assert report["staleInputs"] == [BACKEND]
    assert report["performance"] == {
        "setup": 0.0,
        "initialRun": 2000.0,
        "mutation": 13000.0,
    }
    assert report["thresholds"] == {"high": 90, "low": 90}
    current = build_elements_report(results, project)
    assert "staleWarning" not in current


@pytest.mark.parametrize(
    ("original", "replacement", "middle"),
    [
        ("a == b", "a != b", ("==", "!=")),
        ("x < 20", "x <= 20", ("<", "<=")),
        ("f(a and b)", "f(a or b)", ("and", "or")),
        ("x + 1", "x + 2", ("1", "2")),
        ("same", "same", ("", "")),
    ],
)
def test_differing_range(original: str, replacement: str, middle: tuple[str, str]) -> None:
    prefix, suffix = differing_range(original, replacement)
    assert original[prefix : len(original) - suffix] == middle[0]
    assert replacement[prefix : len(replacement) - suffix] == middle[1]
