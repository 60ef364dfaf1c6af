"""The kit's machine-readable result file and the fingerprint of its inputs.

One JSON document (``mutation/results/latest.json`` by default) records every
mutant, mutmut's and the catalogue's, with its status and killers, the gate
verdicts and the hashes of the inputs it was computed from, so that stale
results can be refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import typing as typ

RESULTS_SCHEMA = "cuprum-mutation-results/1"
DEFAULT_RESULTS_PATH = pathlib.Path("mutation/results/latest.json")

Status = typ.Literal[
    "killed", "survived", "timeout", "no_tests", "error", "excused", "not_run", "unviable"
]
"""A mutant's outcome.

``killed``: at least one test failed on an assertion or exception while the
mutant was active. ``survived``: every selected test passed. ``timeout``,
``error`` (crash, collection error, mutant did not import) and ``no_tests``
are *not* kills. ``excused``: a survivor listed in ``mutation/excused.toml``
with a reason. ``not_run``: outside the selection of a ``--since`` run.
``unviable``: the mutant does not build (cargo-mutants); listed, never scored.
"""

Origin = typ.Literal["mutmut", "catalogue", "generated", "cargo-mutants"]
"""Who made a mutant: mutmut, the must-kill catalogue (Python or Rust), the
kit's own generated operators, or cargo-mutants."""

Language = typ.Literal["python", "rust"]


@dataclasses.dataclass
class Killer:
    """A test that failed while a mutant was active."""

    test: str
    message: str
    language: Language = "python"


@dataclasses.dataclass
class MutantResult:
    """One mutant and what the tests did to it.

    ``id`` is mutmut's mutant name (``cuprum._backend.x_f__mutmut_3``) or the
    catalogue entry's id (``fallback-flipped``). Lines are 1-based and
    inclusive, in the unmutated file; columns are 1-based (0: unknown).
    ``tests`` are the tests that cover the mutated code, fastest first.
    ``key`` hashes what the verdict depends on (the function's source, the
    mutant, its covering tests' files, the rest of the project); a later run
    re-uses the verdict of a mutant whose key is unchanged.
    """

    id: str
    origin: Origin
    file: str
    function: str
    line_start: int
    line_end: int
    original: str
    replacement: str
    diff: str
    status: Status
    killers: list[Killer] = dataclasses.field(default_factory=list)
    duration: float = 0.0
    mutator: str = ""
    claim: str = ""
    must_kill: bool = False
    excuse: str = ""
    replay: str = ""
    detail: str = ""
    column_start: int = 0
    column_end: int = 0
    language: Language = "python"
    tests: list[str] = dataclasses.field(default_factory=list)
    key: str = ""


@dataclasses.dataclass
class ModuleScore:
    """mutmut's score for one target module against its gate."""

    file: str
    total: int
    killed: int
    survived: int
    excused: int
    timeout: int
    no_tests: int
    error: int
    score: float
    threshold: float


@dataclasses.dataclass
class GateVerdict:
    """One gate's outcome."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass
class TestRecord:
    """How many mutants a test kills, and how many only it kills."""

    test: str
    file: str
    kills: int
    sole_kills: int
    duration: float = 0.0


@dataclasses.dataclass
class Results:
    """Everything one kit run produced."""

    schema: str
    created: str
    inputs: dict[str, dict[str, str]]
    inputs_digest: str
    phases: dict[str, float]
    modules: list[ModuleScore]
    mutants: list[MutantResult]
    tests: list[TestRecord]
    coverage: dict[str, float]
    gates: list[GateVerdict]
    selection: list[str] = dataclasses.field(default_factory=list)
    shard: str = ""
    """``k/n`` for one shard's partial result (``run --shard``); empty otherwise."""

    @property
    def passed(self) -> bool:
        """Whether every gate passed."""
        return all(gate.passed for gate in self.gates)

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Results:
        """Parse JSON text written by :meth:`to_json`.

        Raises
        ------
        InvalidResultsError
            If the text is not a result file of this schema.
        """
        try:
            raw = json.loads(text)
            if raw.get("schema") != RESULTS_SCHEMA:
                msg = f"schema is {raw.get('schema')!r}, expected {RESULTS_SCHEMA!r}"
                raise InvalidResultsError(msg)
            return cls(
                schema=raw["schema"],
                created=raw["created"],
                inputs=raw["inputs"],
                inputs_digest=raw["inputs_digest"],
                phases=raw["phases"],
                modules=[ModuleScore(**m) for m in raw["modules"]],
                mutants=[
                    MutantResult(**{**m, "killers": [Killer(**k) for k in m["killers"]]})
                    for m in raw["mutants"]
                ],
                tests=[TestRecord(**t) for t in raw["tests"]],
                coverage=raw["coverage"],
                gates=[GateVerdict(**g) for g in raw["gates"]],
                selection=raw.get("selection", []),
                shard=raw.get("shard", ""),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            msg = f"not a valid result file: {exc!r}"
            raise InvalidResultsError(msg) from exc


class InvalidResultsError(ValueError):
    """A result file is unreadable, of another schema, or stale."""


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(
    root: pathlib.Path, groups: dict[str, list[str]]
) -> tuple[dict[str, dict[str, str]], str]:
    """Hash every file of each group (paths relative to ``root``).

    Parameters
    ----------
    root
        The project root.
    groups
        ``{"source": [...], "tests": [...], "config": [...]}``; directories
        are expanded to the ``.py``, ``.feature``, ``.toml`` and ``.cfg``
        files below them.

    Returns
    -------
    tuple
        Per-group ``{path: sha256}`` and one digest over all of them.
    """
    hashed: dict[str, dict[str, str]] = {}
    overall = hashlib.sha256()
    for group, entries in sorted(groups.items()):
        files: dict[str, str] = {}
        for entry in entries:
            path = root / entry
            candidates = (
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix in {".py", ".feature", ".toml", ".cfg"}
                    and "__pycache__" not in p.parts
                )
                if path.is_dir()
                else [path]
            )
            for candidate in candidates:
                if candidate.exists():
                    # Files outside the root (the kit itself, run on another
                    # project) keep their absolute path.
                    name = (
                        candidate.relative_to(root).as_posix()
                        if candidate.is_relative_to(root)
                        else candidate.as_posix()
                    )
                    files[name] = _sha256(candidate)
        hashed[group] = files
        for name, digest in sorted(files.items()):
            overall.update(f"{group}:{name}:{digest}\n".encode())
    return hashed, overall.hexdigest()


def load_results(path: pathlib.Path) -> Results:
    """Read a result file.

    Raises
    ------
    InvalidResultsError
        If the file is missing or invalid.
    """
    if not path.exists():
        msg = f"no result file at {path}; run `make mutate` first"
        raise InvalidResultsError(msg)
    return Results.from_json(path.read_text(encoding="utf-8"))


def stale_inputs(results: Results, root: pathlib.Path, groups: dict[str, list[str]]) -> list[str]:
    """Return the inputs added, removed or changed since ``results``.

    Parameters
    ----------
    results
        A loaded result file.
    root
        The project root.
    groups
        The input groups as configured now (see :func:`fingerprint`).

    Returns
    -------
    list[str]
        Sorted paths that differ; empty when the results are current.
    """
    current, _ = fingerprint(root, groups)
    changed: set[str] = set()
    for group in set(current) | set(results.inputs):
        then = results.inputs.get(group, {})
        now = current.get(group, {})
        for name in set(then) | set(now):
            if then.get(name) != now.get(name):
                changed.add(name)
    return sorted(changed)
