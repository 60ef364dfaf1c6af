"""Run mutmut on the targets in an isolated copy and collect its mutants."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable

from mutation.catalogue import function_spans
from mutation.config import ConfigError, KitConfig
from mutation.locations import locate_in_diff, require_valid_locations
from mutation.results import Killer, MutantResult, Status

Progress = Callable[[str], None]

_EXPORTER = pathlib.Path(__file__).with_name("mutmut_export.py")
_ATTRIBUTION = pathlib.Path(__file__).with_name("attribution_plugin.py")
_MUTMUT_STATUS: dict[int, Status] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no_tests",
    33: "no_tests",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
}


_ATTRIBUTION_LIMIT_SECONDS = 1800
"""Bound on the whole attribution session (each test has its own 10 s)."""


class MutmutFailedError(RuntimeError):
    """mutmut itself failed (not a mutant verdict)."""


def _function_of(mutant_name: str) -> str:
    """``cuprum._backend.x__parse__mutmut_3`` -> ``_parse`` (methods: ``C.m``)."""
    mangled = mutant_name.partition("__mutmut_")[0].rsplit(".", 1)[-1]
    if mangled.startswith("xǁ"):
        return ".".join(part for part in mangled[2:].split("ǁ") if part)
    return mangled[2:] if mangled.startswith("x_") else mangled


def _changed_lines(diff: str) -> tuple[str, str, int]:
    """Return (removed text, added text, offset of the first change in the function)."""
    removed: list[str] = []
    added: list[str] = []
    offset = 0
    position = 0
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            if not removed and not added:
                offset = position
            removed.append(line[1:])
            position += 1
        elif line.startswith("+"):
            if not removed and not added:
                offset = position
            added.append(line[1:])
        else:
            position += 1
    return "\n".join(removed), "\n".join(added), offset


def _mutator(removed: str, added: str) -> str:
    if re.sub(r"\W", "", removed.lower()) == re.sub(r"\W", "", added.lower()):
        return "string/case"
    if "None" in added and "None" not in removed:
        return "to-None"
    for pair, name in (
        (("==", "!="), "comparison"),
        (("is not", "is"), "identity"),
        (("and", "or"), "boolean"),
        (("True", "False"), "boolean-literal"),
        (("break", "return"), "control-flow"),
    ):
        if any(p in removed for p in pair) and any(p in added for p in pair):
            return name
    if re.search(r"\d", removed + added):
        return "number"
    return "mutmut"


def load_excused(path: pathlib.Path) -> dict[str, tuple[str, str]]:
    """Read ``{mutant id: (reason, diff_contains)}`` from the excused list.

    Raises
    ------
    ConfigError
        If an entry lacks an id or a written reason.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    excused: dict[str, tuple[str, str]] = {}
    for entry in data.get("excused", []):
        ident = entry.get("id", "")
        reason = entry.get("reason", "").strip()
        if not ident or len(reason) < 10:
            msg = f"{path}: excused entry {ident or '(no id)'!r} needs an id and a written reason"
            raise ConfigError(msg)
        excused[ident] = (reason, entry.get("diff_contains", ""))
    return excused


def run_mutmut(
    pristine: pathlib.Path,
    scratch: pathlib.Path,
    config: KitConfig,
    progress: Progress,
    *,
    only: list[str] | None = None,
) -> pathlib.Path:
    """Run ``mutmut run`` in a copy of ``pristine``; return the copy's path."""
    workspace = scratch / "mutmut"
    shutil.copytree(pristine, workspace)
    command = [
        str(pathlib.Path(sys.executable).with_name("mutmut")),
        "run",
        "--max-children",
        str(config.jobs),
    ]
    if only:
        command.extend(only)
    progress(f"mutmut: running ({' '.join(command[1:3])} ...)")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MUTANT_UNDER_TEST", None)
    completed = subprocess.run(
        command, cwd=workspace, env=env, capture_output=True, text=True, check=False
    )
    tail = (
        completed.stdout.replace("\r", "\n").strip().splitlines()[-1:] if completed.stdout else []
    )
    if (
        completed.returncode != 0
        and only
        and "nothing matches" in completed.stderr + completed.stdout
    ):
        progress("mutmut: the selected functions have no mutmut mutants")
        return workspace
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        msg = "mutmut run failed:\n" + "\n".join(detail)
        raise MutmutFailedError(msg)
    progress(f"mutmut: {' '.join(tail)}")
    return workspace


def collect_mutants(
    workspace: pathlib.Path, pristine: pathlib.Path
) -> tuple[list[MutantResult], dict[str, list[str]]]:
    """Export mutmut's mutants as results, plus each mutant's covering tests."""
    out = workspace / "kit-mutmut-export.json"
    completed = subprocess.run(
        [sys.executable, str(_EXPORTER), str(out)],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise MutmutFailedError(
            "exporting mutmut results failed: " + completed.stderr.strip()[-500:]
        )
    exported = json.loads(out.read_text(encoding="utf-8"))
    spans_by_file: dict[str, dict[str, tuple[int, int]]] = {}
    sources: dict[str, str] = {}
    results: list[MutantResult] = []
    tests_by_mutant: dict[str, list[str]] = {}
    for name, data in sorted(exported.items(), key=lambda kv: (kv[1]["file"], _sort_key(kv[0]))):
        file = data["file"]
        if file not in spans_by_file:
            sources[file] = (pristine / file).read_text(encoding="utf-8")
            spans_by_file[file] = function_spans(sources[file])
        function = _function_of(name)
        span = spans_by_file[file].get(function)
        removed, added, _ = _changed_lines(data["diff"])
        # mutmut numbers its hunks from the function's top: anchor them in the file.
        where = locate_in_diff(
            data["diff"], sources[file], file=file, hunk_origin=span[0] if span else 1, within=span
        )
        status = (
            _MUTMUT_STATUS.get(data["exit_code"], "error")
            if data["exit_code"] is not None
            else "not_run"
        )
        results.append(
            MutantResult(
                id=name,
                origin="mutmut",
                file=file,
                function=function,
                line_start=where.line_start,
                line_end=where.line_end,
                column_start=where.column_start,
                column_end=where.column_end,
                original=removed,
                replacement=added,
                diff=data["diff"],
                status=status,
                duration=round(float(data["duration"] or 0.0), 3),
                mutator=_mutator(removed, added),
                detail="" if status != "error" else f"mutmut exit code {data['exit_code']}",
            )
        )
        tests_by_mutant[name] = data["tests"]
    require_valid_locations(results, lambda f: sources.get(f))
    return results, tests_by_mutant


def _sort_key(name: str) -> tuple[str, int]:
    base, _, number = name.partition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def attribute_killers(
    workspace: pathlib.Path,
    mutants: list[MutantResult],
    tests_by_mutant: dict[str, list[str]],
    config: KitConfig,
    *,
    matrix: bool,
    progress: Progress,
) -> None:
    """Fill in ``killers`` of mutmut's killed mutants (first, or all with ``matrix``)."""
    plan = {m.id: tests_by_mutant.get(m.id, []) for m in mutants if m.status == "killed"}
    if not plan:
        return
    mutants_dir = workspace / "mutants"
    shutil.copy2(_ATTRIBUTION, mutants_dir / "_kit_attribution.py")
    plan_path = mutants_dir / "kit-plan.json"
    out_path = mutants_dir / "kit-attribution.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "KIT_ATTRIBUTION_PLAN": str(plan_path),
        "KIT_ATTRIBUTION_OUT": str(out_path),
        "KIT_ATTRIBUTION_MODE": "matrix" if matrix else "first",
        "KIT_TEST_TIMEOUT": "5",
        "KIT_ATTRIBUTION_JOBS": str(config.jobs),
    }
    env.pop("MUTANT_UNDER_TEST", None)
    progress(
        f"attribution: naming the killers of {len(plan)} mutants ({'matrix' if matrix else 'first killer'})"
    )
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "_kit_attribution",
                *config.tests,
            ],
            cwd=mutants_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=_ATTRIBUTION_LIMIT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        msg = f"killer attribution did not finish within {_ATTRIBUTION_LIMIT_SECONDS} s"
        raise MutmutFailedError(msg) from None
    if not out_path.exists():
        raise MutmutFailedError("killer attribution produced no output")
    found = json.loads(out_path.read_text(encoding="utf-8"))
    for mutant in mutants:
        record = found.get(mutant.id)
        if record is None:
            if mutant.status == "killed":
                mutant.detail = "killer attribution did not reach this mutant"
            continue
        mutant.killers = [Killer(**k) for k in record["killers"]]
        if "error" in record:
            mutant.detail = f"killer attribution failed: {record['error']}"
        elif not mutant.killers:
            mutant.detail = (
                "mutmut counted a kill but no test failed on its own when re-run "
                f"(timeouts: {', '.join(record['timeouts']) or 'none'})"
            )
