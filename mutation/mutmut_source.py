"""Mutant source: mutmut 3.8.1's operators, generated in a pristine copy.

mutmut writes its trampolined copy of the project into ``mutants/`` (every
mutant of a function compiled in beside the original, chosen at call time
by ``MUTANT_UNDER_TEST``); the kit's executor runs its pytest session there.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import tomllib

from mutation.catalogue import function_spans
from mutation.config import ConfigError
from mutation.locations import locate_in_diff, require_valid_locations
from mutation.mutants import Activation, Mutant
from mutation.processes import run_child
from mutation.results import MutantResult

_GENERATOR = pathlib.Path(__file__).with_name("mutmut_generate.py")
_GENERATION_LIMIT_SECONDS = 600


class MutmutFailedError(RuntimeError):
    """mutmut itself failed (not a mutant verdict)."""


def function_of(mutant_name: str) -> str:
    """``cuprum._backend.x__parse__mutmut_3`` -> ``_parse`` (methods: ``C.m``)."""
    mangled = mutant_name.partition("__mutmut_")[0].rsplit(".", 1)[-1]
    if mangled.startswith("xǁ"):
        return ".".join(part for part in mangled[2:].split("ǁ") if part)
    return mangled[2:] if mangled.startswith("x_") else mangled


def mangled(function: str) -> str:
    """Return mutmut 3's mangled name of a function or ``Class.method``."""
    if "." in function:
        return "xǁ" + "ǁ".join(function.split("."))
    return f"x_{function}"


def changed_lines(diff: str) -> tuple[str, str, int]:
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


def mutator_of(removed: str, added: str) -> str:
    """Name the kind of change, roughly, for the reports."""
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


def _sort_key(name: str) -> tuple[str, int]:
    base, _, number = name.partition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def generate(
    pristine: pathlib.Path, jobs: int, only: list[str] | None = None
) -> tuple[pathlib.Path, list[Mutant]]:
    """Generate mutmut's mutants in ``pristine``; return its ``mutants/`` copy and them.

    ``only`` (a review's changed modules) limits the mutated files to those.

    Raises
    ------
    MutmutFailedError
        If mutmut fails to generate (a syntax it cannot handle, a bad
        ``[mutmut]`` section).
    """
    out = pristine / ".kit-mutmut-mutants.json"
    # mutmut generates one file per pool process: a review's one changed
    # module needs one, not a pool competing with the baseline for the cores.
    workers = min(jobs, len(only)) if only else jobs
    completed = run_child(
        [sys.executable, str(_GENERATOR), str(workers), str(out), *(only or [])],
        cwd=pristine,
        timeout=_GENERATION_LIMIT_SECONDS,
    )
    if completed.returncode != 0 or not out.exists():
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise MutmutFailedError("mutmut failed to generate mutants:\n" + "\n".join(detail))
    exported: dict[str, dict[str, str]] = json.loads(out.read_text(encoding="utf-8"))
    spans_by_file: dict[str, dict[str, tuple[int, int]]] = {}
    sources: dict[str, str] = {}
    mutants: list[Mutant] = []
    for name in sorted(exported, key=lambda n: (exported[n]["file"], _sort_key(n))):
        file, diff = exported[name]["file"], exported[name]["diff"]
        if file not in spans_by_file:
            sources[file] = (pristine / file).read_text(encoding="utf-8")
            spans_by_file[file] = function_spans(sources[file])
        function = function_of(name)
        span = spans_by_file[file].get(function)
        removed, added, _ = changed_lines(diff)
        # mutmut numbers its hunks from the function's top: anchor them in the file.
        where = locate_in_diff(
            diff, sources[file], file=file, hunk_origin=span[0] if span else 1, within=span
        )
        result = MutantResult(
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
            diff=diff,
            status="not_run",
            mutator=mutator_of(removed, added),
        )
        mutants.append(Mutant(result, Activation(kind="env", name=name)))
    require_valid_locations([m.result for m in mutants], lambda f: sources.get(f))
    return pristine / "mutants", mutants
