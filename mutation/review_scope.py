"""Review runs: the tests a review's baseline must run, from the last full run.

A review (``run --since BASE``) executes only the changed functions'
mutants, and each of those runs only the tests covering its function. The
last full run's results already name those tests (a mutant's ``tests`` are
every test that executed a line of its function's body). A test that
executed none of the changed bodies cannot behave differently now, provided
nothing else changed since that run; so the review's baseline runs just the
covering tests, plus every test of a test file changed since that run,
instead of the whole suite (on cuprum: 145 of 530 tests for one function of
``_backend.py``).

The narrowing is taken only where that argument holds. Otherwise the whole
baseline runs, and the reason is said:

- there is no full run's result file, or the run is forced;
- an input other than the target modules and the test files changed since
  that run (helpers, ``conftest.py``, features, ``setup.cfg``, the kit);
- a target module changed since that run other than inside the bodies of
  the selected functions. Its hash in that run must equal its hash at
  ``BASE`` (then the change since ``BASE`` is the change since the run), and
  between ``BASE`` and now the module with those bodies blanked out must be
  identical: signatures, defaults, decorators and module-level code run on
  import, which every test does;
- a selected function is new, or had no mutant in that run (so no record of
  the tests covering it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import subprocess

from mutation.baseline import body_spans
from mutation.config import KitConfig
from mutation.incremental import context_digest
from mutation.mutants import module_name
from mutation.results import Results


@dataclasses.dataclass(frozen=True)
class ReviewScope:
    """What a review's baseline runs.

    ``tests`` are pytest arguments (node ids, or whole changed test files);
    ``None`` means the whole baseline, for ``reason``.
    """

    tests: list[str] | None
    reason: str


def excuses_of(excuses: dict[str, tuple[str, str]], files: list[str]) -> dict[str, tuple[str, str]]:
    """Return the excuses of mutants in ``files`` (their ids start with the module's name).

    A review generates only its changed modules' mutants; the other
    modules' excuses name mutants it never made, and the next full run
    checks them.
    """
    prefixes = tuple(f"{module_name(file)}." for file in files)
    return {ident: excuse for ident, excuse in excuses.items() if ident.startswith(prefixes)}


def blank_bodies(source: str, names: set[str]) -> list[str]:
    """Return ``source``'s lines with the bodies of the functions ``names`` blanked.

    Each body (first statement to last line) becomes one placeholder line
    naming its function, so two versions of a module compare equal exactly
    when they differ only inside those bodies.
    """
    lines = source.splitlines()
    spans = sorted(
        ((start, end, name) for name, (start, end) in body_spans(source).items() if name in names),
        reverse=True,
    )
    for start, end, name in spans:
        lines[start - 1 : end] = [f"<body of {name}>"]
    return lines


def _at_base(root: pathlib.Path, base: str, file: str) -> bytes | None:
    shown = subprocess.run(
        ["git", "-C", str(root), "show", f"{base}:./{file}"],
        capture_output=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else None


def _target_unchanged_elsewhere(
    root: pathlib.Path, base: str, file: str, names: set[str], previous_sha: str | None
) -> str:
    """Return why ``file`` rules the narrowing out, or "" when it does not."""
    current = (root / file).read_bytes()
    if previous_sha == hashlib.sha256(current).hexdigest():
        return ""
    before = _at_base(root, base, file)
    if before is None or previous_sha != hashlib.sha256(before).hexdigest():
        return f"{file} changed since the last full run other than since {base}"
    old_text, new_text = before.decode("utf-8"), current.decode("utf-8")
    missing = sorted(names - set(body_spans(old_text)))
    if missing:
        return f"{file}: {', '.join(missing)} new since {base}"
    if blank_bodies(old_text, names) != blank_bodies(new_text, names):
        return f"{file} changed outside the bodies of its changed functions"
    return ""


def review_scope(
    config: KitConfig,
    base: str,
    selected: dict[str, set[str]],
    previous: Results | None,
    inputs: dict[str, dict[str, str]],
) -> ReviewScope:
    """Return the tests a review of ``selected`` (changed since ``base``) must run.

    Parameters
    ----------
    config
        The kit's configuration (its root is the git work tree).
    base
        The ``--since`` ref.
    selected
        The changed functions per target file.
    previous
        The last full run's results (``None``: none, or a forced run).
    inputs
        This run's input hashes (:func:`mutation.results.fingerprint`).

    Returns
    -------
    ReviewScope
        The covering tests and changed test files, or ``None`` with the
        reason the whole baseline runs.
    """
    if previous is None:
        return ReviewScope(None, "no full run's results to narrow it with")
    if previous.selection or previous.shard:
        return ReviewScope(None, "the last results are not of a full run")
    if context_digest(previous.inputs, config) != context_digest(inputs, config):
        return ReviewScope(
            None, "files other than the targets and tests changed since the last run"
        )
    before = previous.inputs.get("source", {})
    for file in config.targets:
        names = selected.get(file, set())
        why = _target_unchanged_elsewhere(config.root, base, file, names, before.get(file))
        if why:
            return ReviewScope(None, why)
    covering: dict[tuple[str, str], set[str]] = {}
    for mutant in previous.mutants:
        covering.setdefault((mutant.file, mutant.function), set()).update(mutant.tests)
    tests: set[str] = set()
    for file, names in sorted(selected.items()):
        for name in sorted(names):
            if (file, name) not in covering:
                return ReviewScope(None, f"{file}:{name} had no mutant in the last full run")
            tests |= covering[(file, name)]
    old_tests, new_tests = previous.inputs.get("tests", {}), inputs.get("tests", {})
    changed = sorted(f for f in config.tests if new_tests.get(f) != old_tests.get(f))
    # A changed test file runs whole: its tests may be new or renamed.
    kept = sorted(t for t in tests if t.split("::")[0] in set(config.tests) - set(changed))
    if not kept and not changed:
        return ReviewScope(None, "no test covered the changed functions in the last full run")
    return ReviewScope(
        [*changed, *kept],
        f"{len(kept)} {'test' if len(kept) == 1 else 'tests'} covering the changed"
        " functions in the last full run"
        + (f", and {len(changed)} changed test files" if changed else ""),
    )
