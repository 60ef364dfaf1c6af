"""Incremental runs: re-use a mutant's verdict while what it depends on is unchanged.

A mutant's key hashes the source of its function (decorators included), the
mutant itself (id and diff), its covering tests with the hash of each one's
file, whether every killer is recorded, and everything else the run reads
(the project outside the target and test files: helpers, ``conftest.py``,
features, ``setup.cfg``, the other modules). After one function changes,
only its mutants (and mutants whose covering tests changed) run again.

A change in a *called* function of the same target module does not change
the caller's key; the callee's own mutants re-run, the caller's do not.
"""

from __future__ import annotations

import hashlib
import pathlib

from mutation.catalogue import function_spans
from mutation.config import KitConfig
from mutation.mutants import Mutant
from mutation.results import MutantResult

KEY_VERSION = "kit-key/1"
_REUSED = ("status", "killers", "duration", "detail")


def context_digest(inputs: dict[str, dict[str, str]], config: KitConfig) -> str:
    """Hash every input except the target modules and the test files."""
    own = {*config.targets, *config.tests, config.catalogue, config.excused}
    digest = hashlib.sha256(KEY_VERSION.encode())
    for group, files in sorted(inputs.items()):
        for name, sha in sorted(files.items()):
            if name not in own:
                digest.update(f"{group}:{name}:{sha}\n".encode())
    return digest.hexdigest()


def assign_keys(
    mutants: list[Mutant],
    pristine: pathlib.Path,
    inputs: dict[str, dict[str, str]],
    config: KitConfig,
    *,
    matrix: bool,
) -> None:
    """Set ``result.key`` of every mutant (after its covering tests are known)."""
    context = context_digest(inputs, config)
    test_files = inputs.get("tests", {})
    sources: dict[str, tuple[list[str], dict[str, tuple[int, int]]]] = {}
    for mutant in mutants:
        result = mutant.result
        if result.file not in sources:
            text = (pristine / result.file).read_text(encoding="utf-8")
            sources[result.file] = (text.splitlines(), function_spans(text))
        lines, spans = sources[result.file]
        # Outside every function (a module-level mutant): the whole file.
        start, end = spans.get(result.function, (1, len(lines)))
        digest = hashlib.sha256(context.encode())
        for part in (
            result.origin,
            result.id,
            result.diff,
            result.claim,
            str(matrix or mutant.every_killer),
            "\n".join(lines[start - 1 : end]),
        ):
            digest.update(part.encode() + b"\0")
        for test in sorted(result.tests):  # the set, not its (timing) order
            file = test.split("::")[0]
            digest.update(f"{test}:{test_files.get(file, '?')}\0".encode())
        result.key = digest.hexdigest()


def reuse(mutants: list[Mutant], previous: list[MutantResult]) -> list[Mutant]:
    """Copy verdicts of unchanged mutants from ``previous``; return the ones still to run."""
    known = {m.id: m for m in previous if m.key and m.status not in ("not_run", "error")}
    to_run: list[Mutant] = []
    for mutant in mutants:
        old = known.get(mutant.id)
        if old is None or old.key != mutant.result.key:
            to_run.append(mutant)
            continue
        for field in _REUSED:
            setattr(mutant.result, field, getattr(old, field))
        if old.status == "excused":  # excuses are applied afresh after every run
            mutant.result.status = "survived"
            mutant.result.detail = ""
    return to_run
