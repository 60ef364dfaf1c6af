"""Shared vocabulary of the reports: status labels, ordering and source lines."""

from __future__ import annotations

import dataclasses
import pathlib
import typing as typ

from mutation.results import MutantResult, Results, Status

STATUSES: tuple[Status, ...] = typ.get_args(Status)
"""Every status, in the order the reports list them."""

PROBLEM_STATUSES: frozenset[str] = frozenset({"survived", "timeout", "no_tests", "error"})
"""Statuses that count as survivors: none of them is a kill."""

STATUS_LABELS: dict[str, str] = {
    "killed": "killed",
    "survived": "survived",
    "timeout": "timeout",
    "no_tests": "no tests",
    "error": "error",
    "excused": "excused",
    "not_run": "not run",
    "unviable": "unviable",
}


def is_must_kill(mutant: MutantResult) -> bool:
    """Return whether ``mutant`` is a must-kill (catalogue) mutant.

    Parameters
    ----------
    mutant
        Any mutant of a result file.

    Returns
    -------
    bool
        True for catalogue entries and for mutants flagged ``must_kill``.
    """
    return mutant.must_kill or mutant.origin == "catalogue"


def count_statuses(mutants: typ.Iterable[MutantResult]) -> dict[str, int]:
    """Count mutants per status (every status present, zero when unused).

    Parameters
    ----------
    mutants
        The mutants to count.

    Returns
    -------
    dict[str, int]
        ``{status: count}`` in :data:`STATUSES` order.
    """
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for mutant in mutants:
        counts[mutant.status] = counts.get(mutant.status, 0) + 1
    return counts


def read_source(root: pathlib.Path, file: str) -> str | None:
    """Read a repo-relative source file, or ``None`` when it is unreadable.

    Parameters
    ----------
    root
        The project root.
    file
        A path relative to ``root`` as recorded in the result file.

    Returns
    -------
    str or None
        The file's text (undecodable bytes replaced), or ``None``.
    """
    try:
        return (root / file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def source_excerpt(
    source: str | None, start: int, end: int, *, limit: int = 40
) -> list[tuple[int, str]]:
    """Return numbered lines ``start..end`` (1-based, inclusive) of ``source``.

    Parameters
    ----------
    source
        The file's text, or ``None`` when unreadable.
    start, end
        The line span of a mutant.
    limit
        The most lines to return.

    Returns
    -------
    list[tuple[int, str]]
        ``(line number, text)`` pairs; empty when the span is outside the
        file or the file is unreadable.
    """
    if source is None:
        return []
    lines = source.splitlines()
    first = max(start, 1)
    last = min(max(end, first), len(lines), first + limit - 1)
    return [(number, lines[number - 1]) for number in range(first, last + 1)]


def target_files(modules: typ.Iterable[str], mutants: typ.Iterable[MutantResult]) -> list[str]:
    """Return every file a report covers: the scored modules and mutated files.

    Parameters
    ----------
    modules
        Files with a module score.
    mutants
        All mutants.

    Returns
    -------
    list[str]
        Sorted, unique repo-relative paths.
    """
    return sorted(set(modules) | {m.file for m in mutants})


def file_of_test(test_id: str) -> str:
    """Return the file part of a pytest node id (``path::name`` -> ``path``).

    Parameters
    ----------
    test_id
        A pytest node id.

    Returns
    -------
    str
        The text before the first ``::``.
    """
    return test_id.split("::", 1)[0]


def stale_banner_text(stale: typ.Sequence[str]) -> str:
    """Return the one-line STALE warning for ``stale`` changed inputs.

    Parameters
    ----------
    stale
        Input paths changed since the run.

    Returns
    -------
    str
        The warning sentence (without the list of files).
    """
    count = len(stale)
    noun = "input has" if count == 1 else "inputs have"
    return (
        f"STALE RESULTS: {count} {noun} changed since this run; "
        "the report below may not match the current code."
    )


def needs_review(mutant: MutantResult) -> bool:
    """Return whether a reviewer must look at ``mutant``.

    Parameters
    ----------
    mutant
        Any mutant of a result file.

    Returns
    -------
    bool
        True for survivors (:data:`PROBLEM_STATUSES`) and for must-kill
        mutants that were run and not killed (an unviable must-kill mutant
        is a broken catalogue entry, so it counts too).
    """
    if mutant.status in PROBLEM_STATUSES:
        return True
    return is_must_kill(mutant) and mutant.status not in {"killed", "not_run"}


def review_priority(found: typ.Sequence[MutantResult]) -> list[int]:
    """Return the indexes of ``found`` in the order a cut report keeps them.

    Must-kill mutants first, then one mutant of each language in turn, so
    that one language's many survivors cannot crowd the other's out of a
    budgeted summary or the capped annotations.

    Parameters
    ----------
    found
        Mutants that need review, in reading order.

    Returns
    -------
    list[int]
        Every index of ``found`` once.
    """
    order = [i for i, m in enumerate(found) if is_must_kill(m)]
    queues: dict[str, list[int]] = {}
    for index, mutant in enumerate(found):
        if not is_must_kill(mutant):
            queues.setdefault(mutant.language, []).append(index)
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                order.append(queue.pop(0))
    return order


def replay_for(mutant: MutantResult) -> str:
    """Return the one-line command that re-runs ``mutant``.

    Parameters
    ----------
    mutant
        Any mutant of a result file.

    Returns
    -------
    str
        The recorded replay command; for a mutmut mutant without one,
        mutmut's own re-run of that mutant (it works in ``mutants/``, never
        on the sources); empty when none is known.
    """
    if mutant.replay:
        return mutant.replay
    if mutant.origin == "mutmut":
        return f".venv/bin/mutmut run '{mutant.id}'"
    return ""


@dataclasses.dataclass(frozen=True)
class PerTestRow:
    """One test as the per-test view shows it."""

    test: str
    kills: int
    sole_kills: int
    covers: int
    duration: float
    language: str = "python"
    """The test's language: ``"rust"`` for a ``cargo test`` test."""
    cross_language: dict[str, int] = dataclasses.field(default_factory=dict)
    """Kills of mutants in another language, by that language (a Python
    test killing Rust mutants that ``cargo test`` missed)."""

    @property
    def note(self) -> str:
        """What a reviewer should know: idle, or its cross-language kills."""
        if self.idle:
            return "kills nothing: worth a reviewer's look"
        return "; ".join(
            f"killed by a {self.language.capitalize()} test: {count} {lang} "
            + ("mutant" if count == 1 else "mutants")
            + " (cross-language)"
            for lang, count in sorted(self.cross_language.items())
        )

    @property
    def idle(self) -> bool:
        """Whether the test kills no mutant."""
        return self.kills == 0


def per_test_rows(results: Results) -> list[PerTestRow]:
    """Return every test the run knows of, with its kills, sole kills, duration and language.

    Kills are counted from the mutants' killers (so they agree with the
    mutants shown); tests that only cover mutants (``MutantResult.tests``)
    or only have a record appear with zero kills, flagged idle.

    Parameters
    ----------
    results
        A loaded result file.

    Returns
    -------
    list[PerTestRow]
        Sorted by kills and sole kills (most first), then by name.
    """
    kills: dict[str, int] = {}
    sole: dict[str, int] = {}
    covers: dict[str, int] = {}
    languages: dict[str, str] = {}
    cross: dict[str, dict[str, int]] = {}
    durations = {record.test: record.duration for record in results.tests}
    for record in results.tests:
        kills.setdefault(record.test, 0)
    for mutant in results.mutants:
        killers = list(dict.fromkeys(k.test for k in mutant.killers))
        languages.update((k.test, k.language) for k in mutant.killers)
        for test in dict.fromkeys(k.test for k in mutant.killers if k.language != mutant.language):
            counts = cross.setdefault(test, {})
            counts[mutant.language] = counts.get(mutant.language, 0) + 1
        for test in killers:
            kills[test] = kills.get(test, 0) + 1
        if len(killers) == 1:
            sole[killers[0]] = sole.get(killers[0], 0) + 1
        for test in dict.fromkeys(mutant.tests):
            covers[test] = covers.get(test, 0) + 1
            kills.setdefault(test, 0)
    rows = [
        PerTestRow(
            test=test,
            kills=count,
            sole_kills=sole.get(test, 0),
            covers=covers.get(test, 0),
            duration=durations.get(test, 0.0),
            language=languages.get(test, "python"),
            cross_language=cross.get(test, {}),
        )
        for test, count in kills.items()
    ]
    return sorted(rows, key=lambda r: (-r.kills, -r.sole_kills, r.test))


def language_of(file: str, mutants: typ.Iterable[MutantResult]) -> str:
    """Return a file's language: its mutants' when they agree, else by extension.

    Parameters
    ----------
    file
        A repo-relative path.
    mutants
        The file's mutants.

    Returns
    -------
    str
        ``"python"`` or ``"rust"``.
    """
    found = {m.language for m in mutants}
    if len(found) == 1:
        return found.pop()
    return "rust" if file.endswith(".rs") else "python"
