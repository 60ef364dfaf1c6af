"""Observing process groups in /proc, and a stage that leaves a child behind."""

from __future__ import annotations

import os
import pathlib
import time

SPAWN_DEAF_CHILD = """
# argv: MARK_PATH (exit|stay). Starts a child that ignores SIGTERM, writes
# "stage-pid child-pid process-group" to MARK_PATH, then exits or sleeps.
import os, subprocess, sys, time
ready = sys.argv[1] + ".child"
child = subprocess.Popen(
    [sys.executable, "-c",
     "import signal, sys, time\\n"
     "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
     "open(sys.argv[1], 'w').close()\\n"
     "time.sleep(120)\\n",
     ready],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
while not os.path.exists(ready):
    time.sleep(0.01)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.getpid()} {child.pid} {os.getpgrp()}\\n")
if sys.argv[2] == "stay":
    time.sleep(120)
"""


def state_and_group(pid: int) -> tuple[str, int] | None:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def live_members(pgid: int) -> list[int]:
    """Pids of live (not zombie) processes in group ``pgid``."""
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = state_and_group(int(name))
            if found is not None and found[1] == pgid and found[0] != "Z":
                members.append(int(name))
    return members


def gone(pid: int) -> bool:
    found = state_and_group(pid)
    return found is None or found[0] == "Z"


def wait_until_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    """Poll until every pid is gone (or a zombie); return the survivors."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if not gone(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if not gone(pid)]


def read_pids(path: pathlib.Path) -> tuple[int, int, int]:
    stage, child, group = path.read_text().split()
    return int(stage), int(child), int(group)
