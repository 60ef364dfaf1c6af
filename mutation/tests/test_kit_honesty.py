"""Proof the kit is honest: it runs the real kit on temporary copies.

Each test copies the project into ``tmp_path``, changes the copy (weakens the
suite, breaks a catalogue entry, breaks the baseline, edits the source) and
runs ``python -m mutation`` there, asserting on the exit code and output.
``--skip-mutmut --skip-generated`` keeps these fast: they prove the
catalogue, gates and safety rails, which mutmut's and the generated
operators' mutants do not affect (``test_generated_honesty.py`` proves
the generated gate).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

from mutation.tests.fixture_project import commit_all
from mutation.tests.slim_copy import copy_project, set_kit_tests

REPO = pathlib.Path(__file__).resolve().parents[2]

WEAK_TESTS = """
from cuprum._backend import StreamBackend, _parse_backend_value


def test_parse_python() -> None:
    assert _parse_backend_value(" Python ") is StreamBackend.PYTHON
"""

SMALL_CATALOGUE = """
[[mutant]]
id = "importerror-swallowed"
claim = "forced rust without the extension raises ImportError"
file = "cuprum/_backend.py"
function = "_resolve_backend"
find = "        raise _forced_rust_error(found)\\n"
replace = "        return StreamBackend.PYTHON\\n"

[[mutant]]
id = "case-sensitive-values"
claim = "backend values ignore case"
file = "cuprum/_backend.py"
function = "_parse_backend_value"
find = "    normalised = raw.strip().lower()\\n"
replace = "    normalised = raw.strip()\\n"
"""


def _project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = copy_project(tmp_path)
    (root / "mutation" / "catalogue.toml").write_text(SMALL_CATALOGUE)
    (root / "mutation" / "baseline.json").unlink(missing_ok=True)
    return root


def _kit(root: pathlib.Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    return subprocess.run(
        [sys.executable, "-m", "mutation", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _tree_digest(root: pathlib.Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and "results" not in p.parts
    }


def test_weakened_suite_fails_the_gate_and_names_the_survivor(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    (root / "cuprum" / "unittests" / "test_weak.py").write_text(WEAK_TESTS)
    set_kit_tests(root, ["cuprum/unittests/test_weak.py"])
    completed = _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    # No test of the weak suite runs _resolve_backend: the mutant has no covering test.
    assert "[FAIL] must-kill catalogue: not killed: importerror-swallowed (no_tests)" in output
    assert "case-sensitive-values (" not in output.split("[FAIL] must-kill")[1].splitlines()[0]


def test_full_suite_kills_the_same_mutants(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path)
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    completed = _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "[PASS] must-kill catalogue: all 2 killed by failing tests" in output


def test_catalogue_entry_that_no_longer_matches_is_an_error_naming_it(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    source = root / "cuprum" / "_backend.py"
    source.write_text(source.read_text().replace("raw.strip().lower()", "raw.lower().strip()"))
    completed = _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force")
    assert completed.returncode == 2
    assert "catalogue mutant 'case-sensitive-values': its code no longer occurs" in completed.stderr


def test_failing_baseline_stops_the_run(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path)
    (root / "cuprum" / "unittests" / "test_weak.py").write_text(
        WEAK_TESTS + "\n\ndef test_broken() -> None:\n    assert 1 == 2\n"
    )
    set_kit_tests(root, ["cuprum/unittests/test_weak.py"])
    completed = _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force")
    assert completed.returncode == 4
    assert "baseline does not pass; nothing is reported" in completed.stderr
    assert "test_broken" in completed.stderr
    assert not (root / "mutation" / "results" / "latest.json").exists()


def test_results_older_than_the_source_are_refused(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path)
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    assert _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force").returncode == 0
    assert _kit(root, "check").returncode == 0
    source = root / "cuprum" / "_backend.py"
    source.write_text(source.read_text() + "\n# edited after the run\n")
    completed = _kit(root, "check")
    assert completed.returncode == 3
    assert "stale" in completed.stderr
    assert "cuprum/_backend.py" in completed.stderr


def test_unknown_command_and_bad_config_are_usage_errors(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    assert _kit(root, "frobnicate").returncode == 2
    cfg = root / "setup.cfg"
    text = re.sub(r"(?m)^mutmut_score_min = .*$", "mutmut_score_min = lots", cfg.read_text())
    assert "mutmut_score_min = lots" in text
    cfg.write_text(text)
    completed = _kit(root, "run", "--skip-mutmut", "--skip-generated")
    assert completed.returncode == 2
    assert "mutmut_score_min = 'lots' is not a number" in completed.stderr


def test_working_tree_is_untouched_by_a_run(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path)
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    before = _tree_digest(root)
    assert _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force").returncode == 0
    assert _tree_digest(root) == before


def test_working_tree_is_untouched_when_interrupted(tmp_path: pathlib.Path) -> None:
    root = _project(tmp_path)
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    before = _tree_digest(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    env["TMPDIR"] = str(tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "mutation", "run", "--skip-mutmut", "--skip-generated", "--force"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any((tmp_path / "scratch").iterdir()):
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert _tree_digest(root) == before
    assert list((tmp_path / "scratch").iterdir()) == []


def _full_catalogue_project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = _project(tmp_path)
    shutil.copy2(REPO / "mutation" / "catalogue.toml", root / "mutation" / "catalogue.toml")
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    commit_all(root)
    return root


def test_review_mode_runs_only_the_changed_functions_mutants(tmp_path: pathlib.Path) -> None:
    root = _full_catalogue_project(tmp_path)
    source = root / "cuprum" / "_backend.py"
    text = source.read_text()
    marker = "    normalised = raw.strip().lower()\n"
    source.write_text(text.replace(marker, marker + "    # reviewed\n"))
    completed = _kit(root, "run", "--since", "HEAD", "--skip-mutmut", "--skip-generated")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "1 changed functions: cuprum/_backend.py:_parse_backend_value" in output
    for expected in (
        "case-sensitive-values",
        "whitespace-sensitive-values",
        "unknown-value-accepted",
    ):
        assert expected in completed.stdout
    for unrelated in ("fallback-flipped", "importerror-swallowed", "selection-not-cached"):
        assert unrelated not in completed.stdout
    assert (root / "mutation" / "results" / "review.json").exists()
    assert not (root / "mutation" / "results" / "latest.json").exists()


def test_review_mode_with_no_target_function_changed_passes(tmp_path: pathlib.Path) -> None:
    root = _full_catalogue_project(tmp_path)
    source = root / "cuprum" / "_backend.py"
    source.write_text(source.read_text() + "\n# a module-level comment only\n")
    completed = _kit(root, "run", "--since", "HEAD")
    assert completed.returncode == 0, completed.stderr
    assert "no target function changed since HEAD" in completed.stdout


def test_review_mode_with_an_unknown_ref_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    root = _full_catalogue_project(tmp_path)
    completed = _kit(root, "run", "--since", "no-such-ref")
    assert completed.returncode == 2
    assert "unknown git ref 'no-such-ref'" in completed.stderr


def test_baseline_command_records_scores_and_refuses_stale_results(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    set_kit_tests(root, ["cuprum/unittests/test_backend.py"])
    assert _kit(root, "baseline").returncode == 3  # no results yet
    assert _kit(root, "run", "--skip-mutmut", "--skip-generated", "--force").returncode == 0
    completed = _kit(root, "baseline")
    assert completed.returncode == 0, completed.stderr
    recorded = (root / "mutation" / "baseline.json").read_text()
    assert '"cuprum/_backend.py"' in recorded
    assert '"cuprum/_pipeline_streams.py"' in recorded
    source = root / "cuprum" / "_pipeline_streams.py"
    source.write_text(source.read_text() + "\n# edited\n")
    stale = _kit(root, "baseline")
    assert stale.returncode == 3
    assert "stale" in stale.stderr
