"""cargo-mutants in the kit: find the pinned tool, list, run and read mutants.

Mutants are listed and run in a scratch copy of the crate.

The kit never runs cargo-mutants on the user's tree: it is pointed at a
scratch copy, whose own copies cargo-mutants then makes per job.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import typing as typ

from mutation.cargo_test_log import failed_tests
from mutation.config import ConfigError
from mutation.results import MutantResult, Status

PINNED_VERSION = "27.1.0"
INSTALL_HINT = "run `make cargo-mutants` (installs the pinned version into .cargo-tools/)"

_SUMMARY_STATUS: dict[str, Status] = {
    "CaughtMutant": "killed",
    "MissedMutant": "survived",
    "Timeout": "timeout",
    "Unviable": "unviable",
}


class CargoMutantsError(RuntimeError):
    """cargo-mutants failed in a way that gives no outcomes."""


def find_tool(root: pathlib.Path) -> pathlib.Path:
    """Locate the pinned cargo-mutants: ``.cargo-tools/bin`` first, then PATH.

    Raises
    ------
    ConfigError
        If it is missing or of another version.
    """
    local = root / ".cargo-tools" / "bin" / "cargo-mutants"
    found = str(local) if local.is_file() else shutil.which("cargo-mutants")
    if found is None:
        msg = f"cargo-mutants is not installed; {INSTALL_HINT}"
        raise ConfigError(msg)
    completed = subprocess.run(
        [found, "mutants", "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    version = completed.stdout.strip().rsplit(" ", 1)[-1]
    if version != PINNED_VERSION:
        msg = f"{found} is cargo-mutants {version or '(unknown)'}, the kit pins {PINNED_VERSION}; {INSTALL_HINT}"
        raise ConfigError(msg)
    return pathlib.Path(found)


def cargo_env() -> dict[str, str]:
    """Return the environment for cargo in the scratch copy.

    No debug info: mutants are built to be tested, not debugged, and link
    much faster without it. More test threads than cores: the crate's tests
    mostly wait (on pipes, deadlines and signals), so running more of them
    at once shortens every mutant's run.
    """
    return {
        **os.environ,
        "CARGO_PROFILE_DEV_DEBUG": "0",
        "CARGO_TERM_COLOR": "never",
        "RUST_TEST_THREADS": "8",
    }


def list_mutants(tool: pathlib.Path, crate: pathlib.Path) -> list[dict[str, typ.Any]]:
    """Every mutant cargo-mutants would make in ``crate`` (no build)."""
    completed = subprocess.run(
        [str(tool), "mutants", "--list", "--json", "--dir", str(crate)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=cargo_env(),
    )
    if completed.returncode != 0:
        msg = f"cargo mutants --list failed: {completed.stderr.strip()[-500:]}"
        raise CargoMutantsError(msg)
    listed: list[dict[str, typ.Any]] = json.loads(completed.stdout)
    return listed


def name_filter(names: typ.Iterable[str]) -> list[str]:
    """``-F`` arguments that select exactly the mutants called ``names``."""
    args: list[str] = []
    for name in sorted(names):
        args += ["-F", f"^{re.escape(name)}$"]
    return args


def run_mutants(
    tool: pathlib.Path,
    crate: pathlib.Path,
    output: pathlib.Path,
    names: list[str],
    *,
    jobs: int,
    timeout_multiplier: float,
    minimum_timeout: float,
) -> pathlib.Path:
    """Test the mutants called ``names`` in ``crate``; return ``mutants.out``.

    cargo-mutants measures the unmutated tests first (its baseline) and
    gives every mutant ``timeout_multiplier`` times that, at least
    ``minimum_timeout`` seconds.

    Raises
    ------
    CargoMutantsError
        If the baseline fails or cargo-mutants gives no outcomes.
    """
    command = [
        str(tool),
        "mutants",
        "--dir",
        str(crate),
        "--output",
        str(output),
        "--jobs",
        str(jobs),
        "--timeout-multiplier",
        f"{timeout_multiplier:g}",
        "--minimum-test-timeout",
        f"{minimum_timeout:g}",
        "--no-shuffle",
        # The scratch crate's target/ is built by the baseline already.
        "--copy-target=true",
        "--colors",
        "never",
        *name_filter(names),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, env=cargo_env()
    )
    out_dir = output / "mutants.out"
    outcomes = out_dir / "outcomes.json"
    # Exit 2: some mutants missed, 3: some timed out; both still give outcomes.
    if completed.returncode == 4 or not outcomes.exists():
        tail = (completed.stdout + completed.stderr).strip()[-1500:]
        msg = f"cargo-mutants failed (exit {completed.returncode}): {tail}"
        raise CargoMutantsError(msg)
    return out_dir


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_result(mutant: dict[str, typ.Any], crate_prefix: str) -> MutantResult:
    """Return a listed (not yet run) cargo-mutants mutant as a kit result."""
    span = mutant["span"]
    function = mutant.get("function") or {}
    return MutantResult(
        id=mutant["name"],
        origin="cargo-mutants",
        file=f"{crate_prefix}{mutant['file']}",
        function=function.get("function_name", ""),
        line_start=span["start"]["line"],
        line_end=span["end"]["line"],
        original="",
        replacement=mutant.get("replacement", ""),
        diff=mutant.get("diff", ""),
        status="not_run",
        mutator=mutant.get("genre", ""),
        column_start=span["start"]["column"],
        column_end=span["end"]["column"],
        language="rust",
        replay=f".venv/bin/python -m mutation.rust_phase replay {json.dumps(mutant['name'])}",
    )


def read_outcomes(
    out_dir: pathlib.Path, crate_prefix: str, sources: dict[str, str]
) -> list[MutantResult]:
    """Every mutant outcome in ``out_dir/outcomes.json`` as a kit result.

    ``sources`` maps crate-relative files to their unmutated text, so that
    each result carries the original code its span covers.
    """
    raw = json.loads((out_dir / "outcomes.json").read_text(encoding="utf-8"))
    results: list[MutantResult] = []
    for outcome in raw.get("outcomes", []):
        scenario = outcome.get("scenario")
        if not isinstance(scenario, dict) or "Mutant" not in scenario:
            continue
        mutant = scenario["Mutant"]
        result = to_result(mutant, crate_prefix)
        result.original = original_text(sources.get(mutant["file"], ""), mutant["span"])
        summary = outcome.get("summary", "")
        result.status = _SUMMARY_STATUS.get(summary, "error")
        result.duration = round(
            sum(phase.get("duration", 0.0) for phase in outcome.get("phase_results", [])), 3
        )
        diff_path = outcome.get("diff_path")
        if not result.diff and diff_path and (out_dir / diff_path).exists():
            result.diff = (out_dir / diff_path).read_text(encoding="utf-8", errors="replace")
        log_path = outcome.get("log_path")
        log = (out_dir / log_path).read_text(encoding="utf-8", errors="replace") if log_path else ""
        if result.status == "killed":
            result.killers = failed_tests(log) or []
        elif result.status == "error":
            result.detail = f"cargo-mutants summary {summary!r}"
        elif result.status == "timeout":
            result.detail = "cargo test did not finish within cargo-mutants' timeout"
        results.append(result)
    return results


def original_text(source: str, span: dict[str, typ.Any]) -> str:
    """Return the text a cargo-mutants span covers (1-based lines and columns)."""
    if not source:
        return ""
    lines = source.splitlines(keepends=True)
    start, end = span["start"], span["end"]
    first, last = start["line"] - 1, end["line"] - 1
    if first >= len(lines) or last >= len(lines):
        return ""
    if first == last:
        return _one_line(lines[first][start["column"] - 1 : end["column"] - 1])
    text = lines[first][start["column"] - 1 :] + "".join(lines[first + 1 : last])
    return _one_line(text + lines[last][: end["column"] - 1])


def apply_to_source(source: str, mutant: dict[str, typ.Any]) -> str:
    """``source`` with ``mutant``'s span replaced by its replacement."""
    lines = source.splitlines(keepends=True)
    start, end = mutant["span"]["start"], mutant["span"]["end"]

    def offset(position: dict[str, int]) -> int:
        return sum(len(line) for line in lines[: position["line"] - 1]) + position["column"] - 1

    return source[: offset(start)] + str(mutant["replacement"]) + source[offset(end) :]
