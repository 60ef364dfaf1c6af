"""Process groups: every stage leads its own, and is stopped as a group.

Each stage is spawned with ``process_group=0`` (``setpgid(0, 0)`` in the
child), so the group id is the stage's pid and everything the stage starts
(a background child, a sub-shell) joins it unless it deliberately leaves.
Stopping a run signals each *group*, not just the stage, so no child of a
stage outlives a timeout or a cancellation.

Stages no longer receive the terminal's ``SIGINT`` (they are not in the
foreground group); cuprum stops them itself when ``KeyboardInterrupt``
cancels the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterable

NEW_GROUP = 0
"""``process_group=`` value that starts a stage as the leader of a new group."""

_POLL_SECONDS = 0.02
"""How often a stopping run checks whether its groups have emptied."""


def signal_groups(pgids: Iterable[int], signum: int) -> list[int]:
    """Send ``signum`` to every group in ``pgids``; return those that exist.

    A group whose members have all exited (and been reaped) no longer
    exists; it is skipped without error.
    """
    alive: list[int] = []
    for pgid in pgids:
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            continue
        alive.append(pgid)
    return alive


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def stop_groups(pgids: Iterable[int], grace: float) -> None:
    """SIGTERM every group, wait up to ``grace`` seconds, then SIGKILL it.

    Waits only as long as some group still has a member, so a run whose
    stages and children exit on SIGTERM stops at once. Members that ignore
    SIGTERM (or are slow) are killed when the grace period ends. Reaping the
    stages is the caller's job (asyncio's child watcher does it); orphaned
    members are reaped by their new parent.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    live = signal_groups(pgids, signal.SIGTERM)
    while live and loop.time() < deadline:
        await asyncio.sleep(_POLL_SECONDS)
        live = [pgid for pgid in live if _group_exists(pgid)]
    signal_groups(live, signal.SIGKILL)
