"""Routing of each inter-stage hop to a stream pump.

Dispatch rules (see ``docs/cuprum-design.md``):

==========  ========================  ==========================================
backend     hop descriptors           pump used
==========  ========================  ==========================================
PYTHON      any                       Python pump (``cuprum._streams``)
RUST        both extractable          Rust pump, on duplicates of both fds
RUST        either not extractable    Python pump (*forced fallback*), no byte
                                      lost
==========  ========================  ==========================================

An ``ImportError`` or ``ValueError`` from backend resolution is never
swallowed: it propagates out of the pipeline run.

Test seams (narrow and stable; tests use these instead of patching internals):

* :func:`observe_hops` records, for every hop dispatched in its ``with``
  block, which pump moved the bytes (:class:`HopRecord`).
* :func:`simulate_unusable_descriptors` makes descriptor extraction fail for
  every hop dispatched in its ``with`` block, as it would for a stream that is
  not backed by an OS pipe, to exercise the forced fallback end to end.

Both are context-variable based, so concurrent tests do not interfere.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import functools
import importlib
import os
import select
import typing as typ
from collections.abc import Iterator

from cuprum._backend import NATIVE_MODULE_NAME, StreamBackend, get_stream_backend
from cuprum._hop_threads import run_on_hop_thread
from cuprum._pipes import PIPE_CAPACITY, enlarge_pipe
from cuprum._streams import (
    close_writer,
    pump_stream,
    reader_transport,
    take_buffered_bytes,
)

_CANCEL_SIGNAL = b"\0"
"""Written to a cancelled hop's ``cancel_fd``: its pump thread returns, and
the hop task ends only once that thread has closed its descriptors."""


class HopPump(enum.Enum):
    """Which pump moved a hop's bytes."""

    PYTHON = "python"
    RUST = "rust"


@dataclasses.dataclass(frozen=True, slots=True)
class HopRecord:
    """What happened on one hop, as seen by :func:`observe_hops`.

    Parameters
    ----------
    backend
        The backend selected for the pipeline.
    pump
        The pump that actually moved the bytes.
    forced_fallback
        ``True`` when RUST was selected but the descriptors were unusable.
    bytes_moved
        Bytes delivered to the downstream stage.
    """

    backend: StreamBackend
    pump: HopPump
    forced_fallback: bool
    bytes_moved: int


_hop_observers: contextvars.ContextVar[tuple[list[HopRecord], ...]] = contextvars.ContextVar(
    "cuprum_hop_observers", default=()
)
_descriptors_unusable: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "cuprum_descriptors_unusable", default=False
)


@contextlib.contextmanager
def observe_hops() -> Iterator[list[HopRecord]]:
    """Collect a :class:`HopRecord` for every hop dispatched inside the block."""
    records: list[HopRecord] = []
    token = _hop_observers.set((*_hop_observers.get(), records))
    try:
        yield records
    finally:
        _hop_observers.reset(token)


@contextlib.contextmanager
def simulate_unusable_descriptors() -> Iterator[None]:
    """Make descriptor extraction fail for hops dispatched inside the block."""
    token = _descriptors_unusable.set(True)
    try:
        yield
    finally:
        _descriptors_unusable.reset(token)


def _notify(record: HopRecord) -> None:
    for records in _hop_observers.get():
        records.append(record)


def _pipe_fileno(pipe: object) -> int | None:
    """Return the descriptor behind a transport's pipe object, if it has one."""
    fileno = getattr(pipe, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
    except (OSError, ValueError):
        return None
    if isinstance(fd, int) and fd >= 0:
        return fd
    return None


def _extract_reader_fd(reader: asyncio.StreamReader) -> int | None:
    """Return the descriptor ``reader`` reads from, or ``None`` if unusable."""
    transport = reader_transport(reader)
    if transport is None or transport.is_closing():
        return None
    return _pipe_fileno(transport.get_extra_info("pipe"))


def _extract_writer_fd(writer: asyncio.StreamWriter) -> int | None:
    """Return the descriptor ``writer`` writes to, or ``None`` if unusable."""
    transport = writer.transport
    if transport.is_closing():
        return None
    return _pipe_fileno(transport.get_extra_info("pipe"))


def _extract_hop_fds(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[int, int] | None:
    """Return both ends' descriptors, or ``None`` if either is unusable."""
    if _descriptors_unusable.get():
        return None
    reader_fd = _extract_reader_fd(reader)
    writer_fd = _extract_writer_fd(writer)
    if reader_fd is None or writer_fd is None:
        return None
    return reader_fd, writer_fd


class _NativePump(typ.Protocol):
    def __call__(
        self, reader_fd: int, writer_fd: int, /, *, buffer_size: int, cancel_fd: int
    ) -> int: ...


def _load_native_pump() -> _NativePump:
    """Return the compiled ``rust_pump_stream`` function."""
    module = importlib.import_module(NATIVE_MODULE_NAME)
    pump: _NativePump = module.rust_pump_stream
    return pump


def _pump_owned_fds(pump: _NativePump, reader_fd: int, writer_fd: int, cancel_fd: int) -> int:
    """Run ``pump`` on descriptors this thread owns, closing them afterwards.

    Closing happens here, in the worker thread, so the descriptors outlive
    the pump even if the awaiting task is cancelled. ``cancel_fd`` is the
    read end of a pipe whose write end the awaiting task closes when it is
    cancelled, which makes the pump return instead of waiting for a hop that
    a stray process may hold open for ever.
    """
    try:
        # As much per call as a hop pipe holds: fewer system calls and wake-ups.
        return pump(reader_fd, writer_fd, buffer_size=PIPE_CAPACITY, cancel_fd=cancel_fd)
    finally:
        _close_pair(reader_fd, writer_fd)
        os.close(cancel_fd)


def _wait_writable(fd: int) -> None:
    """Block until ``fd`` can take more bytes (or reports an error)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    poller.poll()


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` in full to ``fd``, waiting whenever it is non-blocking."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            # poll, not select: descriptors may exceed FD_SETSIZE (1024).
            _wait_writable(fd)
            continue
        view = view[written:]


async def _pump_with_rust(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    fds: tuple[int, int],
) -> int:
    """Hand the hop to the Rust pump, after flushing what asyncio buffered.

    The reading transport is paused first, so asyncio reads nothing more;
    the bytes it already buffered go to the writer before the pump starts.
    The pump works on duplicates of both descriptors, which the worker
    thread closes, so asyncio closing its own copies cannot pull a
    descriptor out from under it.
    """
    pump = _load_native_pump()
    transport = reader_transport(reader)
    if transport is not None:
        transport.pause_reading()
    flushed = 0
    pumped = 0
    try:
        reader_fd, writer_fd = _dup_pair(fds)
        enlarge_pipe(writer_fd)  # best effort, like the hop pipe cuprum made
        buffered = take_buffered_bytes(reader)
        try:
            if buffered:
                await run_on_hop_thread(_write_all, writer_fd, buffered)
        except BaseException:
            _close_pair(reader_fd, writer_fd)
            raise
        flushed = len(buffered)
        cancel_read, cancel_write = os.pipe()
        try:
            pumped = await run_on_hop_thread(
                _pump_owned_fds,
                pump,
                reader_fd,
                writer_fd,
                cancel_read,
                wake=functools.partial(os.write, cancel_write, _CANCEL_SIGNAL),
            )
        finally:
            # Frees the descriptor; if the pump still waits, it wakes up.
            os.close(cancel_write)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        if transport is not None:
            transport.close()
        await close_writer(writer)
    return flushed + pumped


def _dup_pair(fds: tuple[int, int]) -> tuple[int, int]:
    """Duplicate both descriptors, leaking neither if the second dup fails."""
    reader_fd = os.dup(fds[0])
    try:
        return reader_fd, os.dup(fds[1])
    except BaseException:
        os.close(reader_fd)
        raise


def _close_pair(reader_fd: int, writer_fd: int) -> None:
    """Close both duplicated descriptors (used when the pump never starts)."""
    os.close(reader_fd)
    os.close(writer_fd)


async def _pump_stream_dispatch(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    backend: StreamBackend | None = None,
) -> int:
    """Move one hop's bytes with the pump the backend and descriptors allow.

    Parameters
    ----------
    reader
        The upstream stage's standard output.
    writer
        The downstream stage's standard input; closed when the hop ends.
    backend
        The pipeline's resolved backend; resolved from the environment when
        ``None``.

    Returns
    -------
    int
        Bytes delivered downstream.

    Raises
    ------
    ImportError
        If ``rust`` is forced and the extension is unavailable.
    ValueError
        If ``CUPRUM_STREAM_BACKEND`` holds an unknown value.
    """
    selected = get_stream_backend() if backend is None else backend
    if selected is StreamBackend.RUST:
        fds = _extract_hop_fds(reader, writer)
        if fds is not None:
            moved = await _pump_with_rust(reader, writer, fds)
            _notify(HopRecord(selected, HopPump.RUST, False, moved))
            return moved
        moved = await pump_stream(reader, writer)
        _notify(HopRecord(selected, HopPump.PYTHON, True, moved))
        return moved
    moved = await pump_stream(reader, writer)
    _notify(HopRecord(selected, HopPump.PYTHON, False, moved))
    return moved
