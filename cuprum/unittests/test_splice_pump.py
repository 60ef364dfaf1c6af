"""The Python pump's ``os.splice`` path (``cuprum._splice_pump``), on real pipes.

``pump_stream`` takes this path whenever both ends of a hop are pipes and
``os.splice`` exists; ``cuprum/unittests/test_streams.py`` runs its pump tests
through both paths. These tests cover the hand-over: which hops qualify, the
bytes asyncio had already buffered, a kernel that refuses to splice, a
downstream that goes away and cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import gc
import os
import socket
import typing as typ

import pytest

from cuprum import _splice_pump
from cuprum._pipes import PIPE_CAPACITY, _pipe_max_size
from cuprum._splice_pump import (
    SpliceOutcome,
    _fifo_fileno,
    _owned_dup,
    copy_loop_only,
    splice_fds,
    splice_hop,
)
from cuprum._streams import pump_stream, reader_transport
from cuprum.unittests.test_streams import (
    PipeDrainer,
    PipeFeeder,
    open_reader,
    open_writer,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "splice"), reason="os.splice is Linux-only")

BOUND = 5.0
"""Hang bound for one pump, far above the milliseconds it takes, and below
the mutation kit's per-test limit (about 10 s): a mutant that leaves a hop
waiting forever fails the test instead of hanging it."""

JOIN_BOUND = 3.0
"""How long a feeder or drainer may take to end once its pump has returned
(it then has only a pipe's worth left, milliseconds of work). Well under the
mutation kit's per-test limit, so a pump that returns without finishing its
hop fails the test instead of hanging it."""


def _open_fds() -> int:
    gc.collect()  # earlier tests' unreferenced transports close their pipes
    return len(os.listdir("/proc/self/fd"))


async def _hop() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int, int]:
    """A pipe-to-pipe hop: its reader and writer, plus the feeding and draining ends."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    reader = await open_reader(in_read)
    writer = await open_writer(out_write)
    return reader, writer, in_write, out_read


def _paused(reader: asyncio.StreamReader) -> asyncio.ReadTransport:
    transport = reader_transport(reader)
    assert transport is not None
    transport.pause_reading()
    return transport


# --- which hops qualify -----------------------------------------------------------


def test_a_pipe_to_pipe_hop_is_spliced() -> None:
    async def scenario() -> None:
        reader, writer, in_write, out_read = await _hop()
        transport = _paused(reader)
        fds = splice_fds(transport, writer)
        assert fds == (
            transport.get_extra_info("pipe").fileno(),
            writer.transport.get_extra_info("pipe").fileno(),
        )
        with copy_loop_only():
            assert splice_fds(transport, writer) is None
        assert splice_fds(transport, writer) == fds
        assert splice_fds(None, writer) is None
        writer.write(b"pending")  # the writer's own unsent bytes must go first
        assert writer.transport.get_write_buffer_size() == 0  # sent at once
        transport.close()
        assert splice_fds(transport, writer) is None
        writer.close()
        os.close(in_write)
        os.close(out_read)

    asyncio.run(scenario())


def test_a_writer_with_unsent_bytes_is_not_spliced() -> None:
    async def scenario() -> None:
        reader, writer, in_write, out_read = await _hop()
        transport = _paused(reader)
        writer.write(b"w" * (4 * 1024 * 1024))  # more than the pipe takes
        assert writer.transport.get_write_buffer_size() > 0
        assert splice_fds(transport, writer) is None
        writer.transport.abort()
        assert splice_fds(transport, writer) is None
        transport.close()
        os.close(in_write)
        os.close(out_read)

    asyncio.run(scenario())


def test_a_socket_end_is_not_spliced() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        left, right = socket.socketpair()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), left
        )
        out_read, out_write = os.pipe()
        writer = await open_writer(out_write)
        assert splice_fds(transport, writer) is None
        transport.close()
        writer.close()
        right.close()
        os.close(out_read)

    asyncio.run(scenario())


def test_without_os_splice_no_hop_is_spliced(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulates a platform without os.splice (anything but Linux).
    monkeypatch.setattr(_splice_pump, "_SPLICE", None)

    async def scenario() -> None:
        reader, writer, in_write, out_read = await _hop()
        transport = _paused(reader)
        assert splice_fds(transport, writer) is None
        transport.close()
        writer.close()
        os.close(in_write)
        os.close(out_read)

    asyncio.run(scenario())


class _NoFileno:
    pass


class _ClosedFile:
    def fileno(self) -> int:
        msg = "I/O operation on closed file"
        raise ValueError(msg)


def test_fifo_fileno_needs_an_open_pipe(tmp_path: typ.Any) -> None:
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        assert _fifo_fileno(pipe) == read_fd
    assert _fifo_fileno(_NoFileno()) is None
    assert _fifo_fileno(_ClosedFile()) is None
    with open(tmp_path / "regular", "wb") as regular:
        assert _fifo_fileno(regular) is None
    stale = os.pipe()
    for fd in stale:
        os.close(fd)

    class _Stale:
        def fileno(self) -> int:
            return stale[0]

    assert _fifo_fileno(_Stale()) is None  # fstat fails: EBADF


# --- keeping every byte --------------------------------------------------------------


def test_bytes_asyncio_already_buffered_are_delivered_first() -> None:
    head = os.urandom(5000)
    tail = os.urandom(3 * 1024 * 1024 + 3)

    async def scenario() -> tuple[int, bytes]:
        reader, writer, in_write, out_read = await _hop()
        drainer = PipeDrainer(out_read)
        drainer.start()
        os.write(in_write, head)
        # The transport is reading: wait until asyncio holds the head.
        while len(getattr(reader, "_buffer", b"")) < len(head):
            await asyncio.sleep(0.01)
        feeder = PipeFeeder(in_write, tail)
        feeder.start()
        count = await asyncio.wait_for(pump_stream(reader, writer), BOUND)
        await asyncio.to_thread(drainer.join, BOUND)
        await asyncio.to_thread(feeder.join, BOUND)
        return count, bytes(drainer.received)

    fds_before = _open_fds()
    count, received = asyncio.run(scenario())
    assert received == head + tail
    assert count == len(head) + len(tail)
    assert _open_fds() == fds_before


def test_downstream_gone_before_the_buffered_bytes_abandons_the_reader() -> None:
    async def scenario() -> tuple[int, bool, bool]:
        reader, writer, in_write, out_read = await _hop()
        os.write(in_write, b"buffered")
        while not getattr(reader, "_buffer", b""):
            await asyncio.sleep(0.01)
        os.close(out_read)
        count = await asyncio.wait_for(pump_stream(reader, writer), BOUND)
        transport = reader_transport(reader)
        assert transport is not None
        os.close(in_write)
        return count, transport.is_closing(), writer.is_closing()

    assert asyncio.run(scenario()) == (0, True, True)


# --- the kernel refuses, or fails ------------------------------------------------------


def _splice_then_fail(code: int) -> tuple[typ.Callable[..., int], list[int]]:
    """A stand-in for ``os.splice`` that splices once, then fails with ``code``.

    Patching ``_SPLICE`` is the narrow seam here: the kernel refuses a
    pipe-to-pipe splice only in set-ups a test cannot create (a seccomp
    filter, a kernel without splice).
    """
    calls: list[int] = []
    real = os.splice

    def splice(src: int, dst: int, count: int, *, flags: int) -> int:
        calls.append(count)
        if len(calls) == 1:
            return real(src, dst, count, flags=flags)
        raise OSError(code, os.strerror(code))

    return splice, calls


def _pump_through(data: bytes) -> tuple[int, bytes]:
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    feeder = PipeFeeder(in_write, data)
    drainer = PipeDrainer(out_read)

    async def scenario() -> int:
        reader = await open_reader(in_read)
        _paused(reader)
        writer = await open_writer(out_write)
        feeder.start()
        drainer.start()
        return await asyncio.wait_for(pump_stream(reader, writer), BOUND)

    try:
        count = asyncio.run(scenario())
    finally:
        feeder.join(JOIN_BOUND)
        drainer.join(JOIN_BOUND)
    return count, bytes(drainer.received)


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOSYS])
def test_a_refused_splice_continues_with_the_copy_loop(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    splice, calls = _splice_then_fail(code)
    monkeypatch.setattr(_splice_pump, "_SPLICE", splice)
    data = os.urandom(2 * 1024 * 1024 + 5)
    fds_before = _open_fds()
    count, received = _pump_through(data)
    assert received == data
    assert count == len(data)
    assert len(calls) >= 2  # it spliced, was refused, then copied the rest
    assert _open_fds() == fds_before


def test_another_splice_error_fails_the_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    splice, _ = _splice_then_fail(errno.EIO)
    monkeypatch.setattr(_splice_pump, "_SPLICE", splice)
    fds_before = _open_fds()
    with pytest.raises(OSError, match="Input/output error") as caught:
        _pump_through(os.urandom(2 * 1024 * 1024))
    assert caught.value.errno == errno.EIO
    assert _open_fds() == fds_before


# --- cancellation ----------------------------------------------------------------------


def test_cancelling_a_spliced_hop_releases_everything() -> None:
    """Nobody drains the downstream pipe: the pump waits, then is cancelled."""

    async def scenario() -> tuple[bool, bool]:
        reader, writer, in_write, out_read = await _hop()
        feeder = PipeFeeder(in_write, b"c" * (8 * 1024 * 1024))
        feeder.start()
        pump = asyncio.create_task(pump_stream(reader, writer))
        await asyncio.sleep(0.3)
        assert not pump.done()
        pump.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pump
        transport = reader_transport(reader)
        assert transport is not None
        os.close(out_read)  # the feeder now sees a broken pipe
        await asyncio.to_thread(feeder.join, BOUND)
        return transport.is_closing(), writer.is_closing()

    fds_before = _open_fds()
    assert asyncio.run(scenario()) == (True, True)
    assert _open_fds() == fds_before


# --- waiting without a thread or a busy loop --------------------------------------------


def test_owned_duplicates_are_non_blocking_and_closed_on_unwind() -> None:
    read_fd, write_fd = os.pipe()
    assert os.get_blocking(write_fd)
    with contextlib.ExitStack() as owned:
        duplicate = _owned_dup(owned, write_fd)
        assert duplicate != write_fd
        assert os.get_blocking(duplicate) is False
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(duplicate)
    os.close(read_fd)
    os.close(write_fd)


def test_a_spliced_hop_enlarges_the_downstream_pipe() -> None:
    # Bigger kernel buffers mean fewer wake-ups per megabyte (see _pipes.py).
    expected = min(PIPE_CAPACITY, _pipe_max_size() or PIPE_CAPACITY)
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    os.write(in_write, b"sized")
    os.close(in_write)

    async def scenario() -> SpliceOutcome:
        return await asyncio.wait_for(splice_hop(b"", (in_read, out_write)), BOUND)

    try:
        assert fcntl.fcntl(out_write, fcntl.F_GETPIPE_SZ) < expected
        assert asyncio.run(scenario()) == SpliceOutcome(5)
        assert fcntl.fcntl(out_write, fcntl.F_GETPIPE_SZ) == expected
        assert os.read(out_read, 16) == b"sized"
    finally:
        for fd in (in_read, out_read, out_write):
            os.close(fd)
