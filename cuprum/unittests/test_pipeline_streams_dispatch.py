"""Dispatcher internals at unit level: descriptor extraction and the hand-over.

These use real pipes and real asyncio transports; they pin down the edge
cases a pipeline rarely reaches (odd pipe objects, a downstream that is
already gone, a full non-blocking pipe during the flush).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import time
import typing as typ
from collections.abc import Awaitable, Callable

import pytest

from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, StreamBackend
from cuprum._pipeline_streams import (
    HopPump,
    _dup_pair,
    _extract_reader_fd,
    _extract_writer_fd,
    _pipe_fileno,
    _pump_stream_dispatch,
    _pump_with_rust,
    observe_hops,
)
from tests.helpers.native import StandInNative


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


class _Pipe:
    def __init__(self, result: object = None, error: type[Exception] | None = None) -> None:
        self.result = result
        self.error = error

    def fileno(self) -> object:
        if self.error is not None:
            raise self.error("no descriptor")
        return self.result


@pytest.mark.parametrize(
    ("pipe", "expected"),
    [
        (object(), None),
        (_Pipe(0), 0),
        (_Pipe(7), 7),
        (_Pipe(-1), None),
        (_Pipe("3"), None),
        (_Pipe(None), None),
        (_Pipe(error=OSError), None),
        (_Pipe(error=ValueError), None),
    ],
)
def test_pipe_fileno_accepts_only_real_descriptors(pipe: object, expected: int | None) -> None:
    assert _pipe_fileno(pipe) == expected


async def _reader_on_pipe(
    limit: int = 2**16,
) -> tuple[asyncio.StreamReader, asyncio.ReadTransport, int]:
    """A StreamReader connected to a new pipe; returns the pipe's write end."""
    read_fd, write_fd = os.pipe()
    reader = asyncio.StreamReader(limit=limit)
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
    )
    return reader, transport, write_fd


async def _writer_on_pipe() -> tuple[asyncio.StreamWriter, int]:
    """A StreamWriter connected to a new pipe; returns the pipe's read end."""
    read_fd, write_fd = os.pipe()
    loop = asyncio.get_running_loop()
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(
        lambda: protocol, os.fdopen(write_fd, "wb", buffering=0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop), read_fd


def _run(scenario: Callable[[], Awaitable[typ.Any]]) -> typ.Any:
    return asyncio.run(asyncio.wait_for(scenario(), 3))


def test_extraction_refuses_closing_transports_and_bare_readers() -> None:
    async def scenario() -> None:
        assert _extract_reader_fd(asyncio.StreamReader()) is None
        reader, transport, write_fd = await _reader_on_pipe()
        assert isinstance(_extract_reader_fd(reader), int)
        transport.close()
        assert _extract_reader_fd(reader) is None
        os.close(write_fd)
        writer, read_fd = await _writer_on_pipe()
        assert isinstance(_extract_writer_fd(writer), int)
        writer.close()
        assert _extract_writer_fd(writer) is None
        os.close(read_fd)

    _run(scenario)


def test_explicit_backend_is_used_without_consulting_the_environment(
    monkeypatch: pytest.MonkeyPatch, native_absent: None
) -> None:
    """Forced rust without the extension would raise; an explicit PYTHON wins."""
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    async def scenario() -> tuple[bytes, list[typ.Any]]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"explicit")
        reader.feed_eof()
        writer, read_fd = await _writer_on_pipe()
        with observe_hops() as hops:
            await _pump_stream_dispatch(reader, writer, backend=StreamBackend.PYTHON)
        data = os.read(read_fd, 100)
        os.close(read_fd)
        return data, hops

    data, hops = _run(scenario)
    assert data == b"explicit"
    assert [(h.backend, h.pump, h.forced_fallback) for h in hops] == [
        (StreamBackend.PYTHON, HopPump.PYTHON, False)
    ]


def test_dup_pair_leaks_nothing_when_the_second_dup_fails() -> None:
    read_fd, write_fd = os.pipe()
    before = open_fds()
    with pytest.raises(OSError, match="Bad file descriptor") as caught:
        _dup_pair((read_fd, 987_654))
    assert caught.value.errno == errno.EBADF
    assert open_fds() == before
    os.close(read_fd)
    os.close(write_fd)


def test_rust_hand_over_closes_the_reader_transport(stand_in_native: StandInNative) -> None:
    async def scenario() -> tuple[bool, bytes]:
        reader, transport, up_write = await _reader_on_pipe()
        writer, down_read = await _writer_on_pipe()
        os.write(up_write, b"through the rust pathway")
        os.close(up_write)
        fds = (
            transport.get_extra_info("pipe").fileno(),
            writer.transport.get_extra_info("pipe").fileno(),
        )
        await _pump_with_rust(reader, writer, fds)
        received = os.read(down_read, 100)
        os.close(down_read)
        return transport.is_closing(), received

    closing, received = _run(scenario)
    assert closing is True
    assert received == b"through the rust pathway"


def test_flush_into_a_vanished_downstream_returns_quietly_and_leaks_nothing(
    stand_in_native: StandInNative,
) -> None:
    async def scenario() -> tuple[int, set[int], set[int]]:
        reader, transport, up_write = await _reader_on_pipe()
        writer, down_read = await _writer_on_pipe()
        os.write(up_write, b"x" * 4096)
        while len(getattr(reader, "_buffer", b"")) < 4096:
            await asyncio.sleep(0.01)
        os.close(down_read)  # downstream is gone: the flush hits EPIPE
        os.close(up_write)  # nothing more will come: a pump would see EOF
        before = open_fds()
        fds = (
            transport.get_extra_info("pipe").fileno(),
            writer.transport.get_extra_info("pipe").fileno(),
        )
        moved = await _pump_with_rust(reader, writer, fds)
        await asyncio.sleep(0)
        after = open_fds()
        return moved, before, after

    moved, before, after = _run(scenario)
    assert moved == 0
    assert after <= before
    assert stand_in_native.calls == 0


def test_flush_waits_on_a_full_non_blocking_pipe_and_loses_nothing(
    stand_in_native: StandInNative,
) -> None:
    """600 KB buffered in asyncio must cross a 64 KiB non-blocking pipe whole."""
    buffered = os.urandom(600_000)

    async def scenario() -> tuple[bytes, int]:
        reader, transport, up_write = await _reader_on_pipe(limit=2**21)
        writer, down_read = await _writer_on_pipe()
        os.set_blocking(up_write, True)
        await asyncio.to_thread(os.write, up_write, buffered[:65536])
        feeder = asyncio.create_task(asyncio.to_thread(_write_rest, up_write, buffered[65536:]))
        while len(getattr(reader, "_buffer", b"")) < len(buffered):
            await asyncio.sleep(0.01)
        await feeder
        collected = bytearray()

        def slow_drain() -> None:
            import time

            time.sleep(0.2)  # the flush must meet a full pipe and wait
            while chunk := os.read(down_read, 65536):
                collected.extend(chunk)
                if len(collected) > len(buffered):
                    break  # more than was sent: stop a runaway writer with EPIPE
            os.close(down_read)

        drainer = asyncio.create_task(asyncio.to_thread(slow_drain))
        fds = (
            transport.get_extra_info("pipe").fileno(),
            writer.transport.get_extra_info("pipe").fileno(),
        )
        os.close(up_write)
        moved = await _pump_with_rust(reader, writer, fds)
        await drainer
        return bytes(collected), moved

    received, moved = _run(scenario)
    assert received == buffered
    assert moved == len(buffered)


def _write_rest(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def test_rust_hand_over_works_for_a_reader_without_a_transport(
    stand_in_native: StandInNative,
) -> None:
    """Buffered bytes first, then the descriptor's bytes, even with no transport."""

    async def scenario() -> tuple[bytes, int]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"buffered-")
        source_read, source_write = os.pipe()
        os.write(source_write, b"from-the-descriptor")
        os.close(source_write)
        writer, down_read = await _writer_on_pipe()
        fds = (source_read, writer.transport.get_extra_info("pipe").fileno())
        moved = await _pump_with_rust(reader, writer, fds)
        os.close(source_read)
        received = os.read(down_read, 100)
        os.close(down_read)
        return received, moved

    received, moved = _run(scenario)
    assert received == b"buffered-from-the-descriptor"
    assert moved == len(received)


@pytest.fixture(params=["stand-in", "compiled"])
def rust_pump(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Rust pathway's pump: the stand-in, or the compiled extension."""
    if request.param == "compiled":
        request.getfixturevalue("real_native")
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
    else:
        request.getfixturevalue("stand_in_native")
    return str(request.param)


def test_cancelling_a_rust_hop_wakes_its_pump_thread(rust_pump: str) -> None:
    """A hop whose upstream is held open by a stray process can still be stopped."""

    async def scenario() -> bool:
        reader, _, up_write = await _reader_on_pipe()
        writer, down_read = await _writer_on_pipe()
        baseline = open_fds()
        try:
            task = asyncio.create_task(
                _pump_stream_dispatch(reader, writer, backend=StreamBackend.RUST)
            )
            await asyncio.sleep(0.3)  # the pump now waits on an empty, open pipe
            assert open_fds() > baseline  # it holds its duplicated descriptors
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Within _run's 3 s bound, so a pump that stays asleep fails the
            # assertion below instead of hanging the test.
            deadline = time.monotonic() + 1.5
            while not open_fds() <= baseline and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return open_fds() <= baseline
        finally:
            # Unblock a pump that ignored the cancellation, so the test ends
            # (asyncio.run waits for the pump's thread).
            os.close(up_write)
            os.close(down_read)

    assert _run(scenario) is True
