"""Progress while mutants execute: how many are done, every few seconds.

The executor's pytest session appends one JSON line per finished mutant to
its record file; a full run spends minutes in that one session, so a
watcher thread counts those lines and reports ``done/total`` at a steady
interval instead of leaving the user with a silent terminal.
"""

from __future__ import annotations

import pathlib
import threading
import types
import typing as typ
from collections.abc import Callable

PROGRESS_INTERVAL_SECONDS = 20.0
"""How often a long execution reports how far it got."""


class ExecutionProgress:
    """Report ``done/total`` mutants every ``interval`` seconds while in use.

    Parameters
    ----------
    say
        Where progress lines go (the run's clock).
    total
        How many mutants this execution runs.
    interval
        Seconds between two progress lines.

    Notes
    -----
    Use as a context manager; :meth:`watch` names a record file whose lines
    count as finished mutants, :meth:`add` counts mutants finished elsewhere.
    Nothing is printed if the execution ends before the first interval.
    """

    def __init__(
        self,
        say: Callable[[str], None],
        total: int,
        interval: float = PROGRESS_INTERVAL_SECONDS,
    ) -> None:
        self._say = say
        self._total = total
        self._interval = interval
        self._files: list[pathlib.Path] = []
        self._finished = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="kit-progress", daemon=True)

    def watch(self, records: pathlib.Path) -> None:
        """Count each line of ``records`` as one finished mutant."""
        with self._lock:
            self._files.append(records)

    def unwatch(self, records: pathlib.Path, counted: int) -> None:
        """Stop reading ``records``; keep its ``counted`` mutants as finished."""
        with self._lock:
            if records in self._files:
                self._files.remove(records)
            self._finished += counted

    def add(self, count: int) -> None:
        """Count ``count`` mutants finished outside a watched file."""
        with self._lock:
            self._finished += count

    def done(self) -> int:
        """Mutants finished so far."""
        with self._lock:
            files = list(self._files)
            finished = self._finished
        for path in files:
            try:
                finished += path.read_bytes().count(b"\n")
            except OSError:
                # The session has not created it yet, or its copy is gone.
                continue
        return finished

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self._say(f"{self.done()}/{self._total} mutants executed")

    def __enter__(self) -> typ.Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
