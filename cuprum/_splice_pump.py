"""The Python pump's fast path: ``os.splice`` between two pipes, loop-driven.

When both ends of a hop are OS pipes and ``os.splice`` exists (Linux), the
Python pump moves the hop's bytes with ``splice(2)``: the kernel hands the
pipe's pages from one pipe to the other, and no byte is copied into Python.
Both descriptors are non-blocking and every wait is a readiness callback of
the event loop (``add_reader``/``add_writer``), so this stays pure Python,
uses no thread and cancels like any coroutine. Anywhere else (no
``os.splice``, a stream without a descriptor, a socket) :func:`splice_fds`
returns ``None`` and the caller keeps the portable ``StreamReader`` loop.

Keeping every byte: the reading transport is paused before the hand-over,
and whatever asyncio already read into the ``StreamReader`` is written
downstream before the first splice.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import os
import select
import stat
import typing as typ
from collections.abc import Iterator

from cuprum._pipes import enlarge_pipe

SPLICE_CHUNK = 1024 * 1024
"""Most bytes asked of one ``splice`` call (it moves what the pipes allow)."""

_SPLICE = getattr(os, "splice", None)
_SPLICE_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)


_splice_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "cuprum_splice_disabled", default=False
)


@contextlib.contextmanager
def copy_loop_only() -> Iterator[None]:
    """Make hops pumped inside the block use the portable copy loop.

    A test seam: it runs the ``StreamReader`` loop on Linux pipes, as it runs
    where ``os.splice`` does not exist.
    """
    token = _splice_disabled.set(True)
    try:
        yield
    finally:
        _splice_disabled.reset(token)


def _fifo_fileno(pipe: object) -> int | None:
    """Return the descriptor behind ``pipe`` if it is an open FIFO (a pipe)."""
    fileno = getattr(pipe, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
        is_fifo = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (OSError, ValueError, TypeError):
        return None
    return fd if is_fifo else None


def splice_fds(
    transport: asyncio.ReadTransport | None, writer: asyncio.StreamWriter
) -> tuple[int, int] | None:
    """Return the hop's ``(reader_fd, writer_fd)`` if it can be spliced.

    Parameters
    ----------
    transport
        The transport feeding the hop's ``StreamReader``, if it has one.
    writer
        The downstream stage's standard input.

    Returns
    -------
    tuple[int, int] | None
        Both pipe descriptors, or ``None`` when ``os.splice`` is missing,
        either end is not an open pipe, or the writer still holds unsent
        bytes of its own (they must go first, through the transport).
    """
    if _SPLICE is None or _splice_disabled.get():
        return None
    if transport is None or transport.is_closing():
        return None
    write_transport = writer.transport
    if write_transport.is_closing() or write_transport.get_write_buffer_size():
        return None
    reader_fd = _fifo_fileno(transport.get_extra_info("pipe"))
    writer_fd = _fifo_fileno(write_transport.get_extra_info("pipe"))
    if reader_fd is None or writer_fd is None:
        return None
    return reader_fd, writer_fd


async def _ready(fd: int, *, for_write: bool) -> None:
    """Wait until the event loop reports ``fd`` readable (or writable)."""
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        # The loop may report the descriptor once more before this waiter
        # resumes and removes it, or after it was cancelled.
        with contextlib.suppress(asyncio.InvalidStateError):
            woken.set_result(None)

    if for_write:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await woken
    finally:
        if for_write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def _writer_is_full(writer_fd: int) -> bool:
    """Whether the downstream pipe has no room (so it, not the reader, blocks)."""
    poller = select.poll()
    poller.register(writer_fd, select.POLLOUT)
    return not poller.poll(0)


class SpliceOutcome(typ.NamedTuple):
    """How a spliced hop ended."""

    moved: int
    """Bytes delivered downstream."""
    downstream_gone: bool = False
    """The downstream reader went away (``EPIPE``) before the reader's EOF."""
    refused: bool = False
    """The kernel refused to splice these pipes (``EINVAL``, e.g. an
    ``O_APPEND`` writer) before any byte moved that way; the caller copies the
    rest. Every byte counted in ``moved`` was delivered."""


_SPLICE_REFUSED = (errno.EINVAL, errno.ENOSYS)


async def _write_all(writer_fd: int, data: bytes) -> SpliceOutcome:
    """Write ``data`` to the non-blocking ``writer_fd``, waiting when full."""
    view = memoryview(data)
    written = 0
    while written < len(view):
        try:
            written += os.write(writer_fd, view[written:])
        except BlockingIOError:
            await _ready(writer_fd, for_write=True)
        except BrokenPipeError:
            return SpliceOutcome(written, downstream_gone=True)
    return SpliceOutcome(written)


async def _splice_until_eof(reader_fd: int, writer_fd: int, moved: int) -> SpliceOutcome:
    """Splice ``reader_fd`` into ``writer_fd`` until the reader's EOF."""
    splice = typ.cast(typ.Callable[..., int], _SPLICE)
    while True:
        try:
            count = splice(reader_fd, writer_fd, SPLICE_CHUNK, flags=_SPLICE_FLAGS)
        except BlockingIOError:
            # One side is not ready: sleep on the one that blocks.
            writer_full = _writer_is_full(writer_fd)
            await _ready(writer_fd if writer_full else reader_fd, for_write=writer_full)
            continue
        except BrokenPipeError:
            return SpliceOutcome(moved, downstream_gone=True)
        except OSError as exc:
            if exc.errno in _SPLICE_REFUSED:
                # A refused splice moves nothing: the caller copies the rest.
                return SpliceOutcome(moved, refused=True)
            raise
        if count == 0:
            return SpliceOutcome(moved)
        moved += count


async def splice_hop(buffered: bytes, fds: tuple[int, int]) -> SpliceOutcome:
    """Move a hop's bytes with ``splice``, after the bytes asyncio buffered.

    Parameters
    ----------
    buffered
        What the hop's ``StreamReader`` had buffered when its transport was
        paused; written downstream first.
    fds
        The pipe descriptors from :func:`splice_fds`. The caller keeps the
        reading transport paused while this runs.

    Returns
    -------
    SpliceOutcome
        Bytes delivered (``buffered`` included) and how the hop ended.

    Notes
    -----
    The pump works on duplicates of both descriptors, closed here on every
    exit: the loop refuses readiness callbacks on a descriptor a transport
    owns, and a transport closing its own copy cannot pull one away.
    """
    with contextlib.ExitStack() as owned:
        reader_fd, writer_fd = (_owned_dup(owned, fd) for fd in fds)
        # Larger kernel buffers mean fewer wake-ups per megabyte.
        enlarge_pipe(writer_fd)
        flushed = await _write_all(writer_fd, buffered)
        if flushed.downstream_gone:
            return flushed
        return await _splice_until_eof(reader_fd, writer_fd, flushed.moved)


def _owned_dup(owned: contextlib.ExitStack, fd: int) -> int:
    """Duplicate ``fd`` as non-blocking, closed when ``owned`` unwinds."""
    duplicate = os.dup(fd)
    owned.callback(os.close, duplicate)
    os.set_blocking(duplicate, False)
    return duplicate
