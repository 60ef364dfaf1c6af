"""Split the baseline's test files across processes, slowest files first.

The baseline is mostly waiting: the engine's tests sleep through timeouts
and grace periods while the CPU idles. Run as one pytest process it took
about 100 s of a cold run; split by file across ``jobs`` processes (the
files are independent: ``make test`` runs them one file per xdist worker)
the waits overlap. Each shard writes its own coverage data file and
outcome record; :mod:`mutation.baseline` merges them back into one. A
review's narrowed baseline (:mod:`mutation.review_scope`) splits its tests
one by one, by node id, the same way.
"""

from __future__ import annotations

import json
import pathlib


def file_hints(results: pathlib.Path) -> dict[str, float]:
    """Return each test file's seconds in the last results, for balancing.

    Only a scheduling hint: without a readable results file (a first run, or
    one the user deleted) every file weighs the same, and the run is as
    correct, only less evenly split.
    """
    try:
        tests = json.loads(results.read_text(encoding="utf-8"))["tests"]
        seconds: dict[str, float] = {}
        for record in tests:
            file = str(record["file"])
            seconds[file] = seconds.get(file, 0.0) + float(record["duration"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return seconds


SHARD_MIN_SECONDS = 8.0
"""The least known work (seconds in the last run) worth a process of its own.

Starting a shard (Python, coverage, pytest, collecting its files) costs
about 1.5 s of CPU. A review's 145 covering tests took 11.4-12 s in two to
four processes and 18 s in eight on two cores; a whole baseline's minutes
of mostly waiting tests gain from every process (58 s in four, 42 s in
eight). The seconds are those of the last baseline, itself run in up to
``jobs`` processes on the same cores, so CPU-bound tests weigh up to
``jobs`` / cores times their own time (the 145 tests: 17.9 s after a run
with four workers, 29.4 s after one with eight); 8 s keeps such a review
at two or three processes.
"""


def shard_count(items: list[str], hints: dict[str, float], workers: int) -> int:
    """Return how many processes ``items`` (files or node ids) are worth.

    At most ``workers``, one per item, and one per :data:`SHARD_MIN_SECONDS`
    of their ``hints``; an item without a hint (a first run, a new test
    file) may be slow and counts as a process's worth.
    """
    if not items:
        return 0
    known = sum(hints.get(item, SHARD_MIN_SECONDS) for item in items)
    return max(1, min(workers, len(items), int(known // SHARD_MIN_SECONDS)))


def partition(files: list[str], hints: dict[str, float], workers: int) -> list[list[str]]:
    """Split ``files`` into at most ``workers`` non-empty shards of near-equal time.

    Longest processing time first: each file, slowest first (by ``hints``;
    an unknown file weighs 1 s), goes to the least loaded shard. Ties break
    by name and shard index, so the split is the same from run to run. Each
    shard keeps its files in the given order.
    """
    count = min(max(1, workers), len(files))
    if count == 0:
        return []

    def weight(file: str) -> float:
        # Never zero: the first ``count`` files must land in ``count`` shards.
        return max(hints.get(file, 1.0), 0.001)

    loads = [0.0] * count
    owner: dict[str, int] = {}
    for file in sorted(files, key=lambda f: (-weight(f), f)):
        shard = min(range(count), key=lambda i: (loads[i], i))
        owner[file] = shard
        loads[shard] += weight(file)
    return [[f for f in files if owner[f] == i] for i in range(count)]
