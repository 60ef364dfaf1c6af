"""The OS pipes cuprum creates for hops, with larger kernel buffers.

A pipe's kernel buffer is 64 KiB by default on Linux. Every time it fills or
empties, a stage or a pump sleeps and wakes; a larger buffer means fewer of
those round trips per megabyte. On Linux each pipe cuprum creates asks for
:data:`PIPE_CAPACITY` bytes with ``fcntl(F_SETPIPE_SZ)``, capped by
``/proc/sys/fs/pipe-max-size`` (what an unprivileged process may ask for).

Enlarging is an optimisation only, so a refusal is never an error: the pipe
keeps its default size and the reason is logged at debug level (logger
``cuprum``). The kernel refuses, for instance, once the user's pipes together
hold more than ``/proc/sys/fs/pipe-user-pages-soft`` pages, and elsewhere
than Linux there is no ``F_SETPIPE_SZ`` at all.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import pathlib

try:
    import fcntl

    _F_SETPIPE_SZ: int | None = fcntl.F_SETPIPE_SZ
    _F_GETPIPE_SZ: int = fcntl.F_GETPIPE_SZ
except (ImportError, AttributeError):  # pragma: no cover - not Linux
    _F_SETPIPE_SZ = None

PIPE_CAPACITY = 1024 * 1024
"""Bytes of kernel buffer each hop pipe asks for (at most pipe-max-size)."""

PIPE_MAX_SIZE_PATH = pathlib.Path("/proc/sys/fs/pipe-max-size")

_log = logging.getLogger("cuprum")


@dataclasses.dataclass(frozen=True, slots=True)
class PipeSizing:
    """What became of a request to enlarge a pipe.

    Parameters
    ----------
    capacity
        The pipe's buffer size in bytes afterwards, or ``None`` if unknown
        (no ``F_GETPIPE_SZ`` on this platform).
    reason
        Why the pipe was not enlarged to the size asked for; empty if it was.
    """

    capacity: int | None
    reason: str = ""


@functools.cache
def _pipe_max_size(path: pathlib.Path = PIPE_MAX_SIZE_PATH) -> int | None:
    """Return the largest buffer an unprivileged process may ask for, if known."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _capped(requested: int, limit: int | None) -> int:
    return requested if limit is None else min(requested, limit)


def _current_capacity(fd: int) -> int | None:
    """Return the pipe's buffer size, or ``None`` if ``fd`` is not a pipe."""
    try:
        return fcntl.fcntl(fd, _F_GETPIPE_SZ)
    except OSError:
        return None


def enlarge_pipe(fd: int, requested: int = PIPE_CAPACITY) -> PipeSizing:
    """Ask the kernel for a ``requested``-byte buffer on the pipe ``fd``.

    Parameters
    ----------
    fd
        Either end of a pipe (anything else is left alone, with a reason).
    requested
        The buffer size wanted, in bytes; capped by ``pipe-max-size``.

    Returns
    -------
    PipeSizing
        The resulting capacity, and why it is not what was asked for (if so).
    """
    if _F_SETPIPE_SZ is None:
        return PipeSizing(None, "this platform cannot resize pipes (no F_SETPIPE_SZ)")
    size = _capped(requested, _pipe_max_size())
    try:
        capacity = fcntl.fcntl(fd, _F_SETPIPE_SZ, size)
    except OSError as exc:
        reason = f"F_SETPIPE_SZ({size}) refused: {exc.strerror or exc}; size unchanged"
        _log.debug("descriptor %d not enlarged: %s", fd, reason)
        return PipeSizing(_current_capacity(fd), reason)
    if size < requested:
        return PipeSizing(capacity, f"capped at pipe-max-size ({size} bytes)")
    return PipeSizing(capacity)


def create_pipe() -> tuple[int, int]:
    """Return ``(read_fd, write_fd)`` of a new pipe, enlarged where possible.

    Returns
    -------
    tuple[int, int]
        As :func:`os.pipe`: both ends, not inheritable.
    """
    read_fd, write_fd = os.pipe()
    enlarge_pipe(write_fd)
    return read_fd, write_fd
