"""The Python pump and the incremental output consumer, on real pipes."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import threading
import typing as typ

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuprum._splice_pump import copy_loop_only
from cuprum._streams import (
    PUMP_CHUNK_SIZE,
    OutputSink,
    abandon_reader,
    consume_stream,
    pump_stream,
    reader_transport,
    take_buffered_bytes,
)

# --- OutputSink -----------------------------------------------------------------


def feed_all(pieces: typ.Iterable[bytes]) -> OutputSink:
    sink = OutputSink()
    for piece in pieces:
        sink.feed(piece)
    sink.feed(b"", final=True)
    return sink


def test_sink_decodes_a_character_fed_byte_by_byte() -> None:
    sink = OutputSink()
    encoded = "€".encode()

    sink.feed(encoded[:1])
    sink.feed(encoded[1:2])
    assert sink.text == ""
    sink.feed(encoded[2:])

    assert sink.text == "€"


def test_sink_decodes_mixed_text_fed_byte_by_byte() -> None:
    text = "a€b🐍c\nünïcødé"
    data = text.encode()

    sink = feed_all(data[i : i + 1] for i in range(len(data)))

    assert sink.text == text


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b"ok\xfe\xffok",
        b"\xe2\x82",  # a truncated euro sign at the very end
        b"\xe2\x82abc",  # a truncated euro sign followed by ASCII
        b"\xc0\xaf",  # an overlong encoding
        b"\xed\xa0\x80",  # an encoded surrogate
        b"\xf4\x90\x80\x80",  # beyond U+10FFFF
        b"\x80\x80\x80",  # stray continuation bytes
    ],
)
def test_sink_replaces_invalid_bytes_like_bytes_decode(data: bytes) -> None:
    expected = data.decode("utf-8", errors="replace")

    whole = feed_all([data])
    split = feed_all(data[i : i + 1] for i in range(len(data)))

    assert whole.text == expected
    assert split.text == expected


def test_sink_flushes_a_dangling_prefix_only_when_final() -> None:
    sink = OutputSink()

    sink.feed(b"abc\xe2\x82")
    assert sink.text == "abc"
    sink.feed(b"", final=True)

    assert sink.text == "abc\ufffd"


def test_sink_echoes_decoded_text_as_it_arrives() -> None:
    echo = io.StringIO()
    sink = OutputSink(echo)
    encoded = "x€\n".encode()

    sink.feed(encoded[:2])
    assert echo.getvalue() == "x"
    sink.feed(encoded[2:])

    assert echo.getvalue() == "x€\n"
    assert sink.text == "x€\n"


def test_sink_without_echo_starts_empty() -> None:
    assert OutputSink().text == ""


def test_undecoding_sink_keeps_every_byte_in_order() -> None:
    sink = OutputSink(text=False)

    for piece in (b"\xe2\x82", b"", b"\xac\xff", b"\x00tail"):
        sink.feed(piece)
    sink.feed(b"", final=True)

    assert sink.data == b"\xe2\x82\xac\xff\x00tail"
    assert sink.value == sink.data
    assert sink.text == ""
    assert sink.bytes_fed == 9
    assert not sink.decodes


def test_decoding_sink_keeps_no_bytes() -> None:
    sink = OutputSink()

    sink.feed("é".encode(), final=True)

    assert sink.value == "é"
    assert sink.data == b""
    assert sink.bytes_fed == 2


class _BinaryEcho(io.TextIOWrapper):
    """A buffered text stream over a buffered binary ``buffer``, like ``sys.stdout``.

    Nothing reaches ``raw_bytes`` until someone flushes, so the tests see
    whether the sink flushes the text ahead of its bytes and the bytes after.
    """

    def __init__(self) -> None:
        self.raw_bytes = io.BytesIO()
        super().__init__(io.BufferedWriter(self.raw_bytes), encoding="utf-8")


def test_undecoding_sink_echoes_raw_bytes_to_the_binary_buffer() -> None:
    echo = _BinaryEcho()
    echo.write("before:")  # text written first must stay ahead of the bytes
    sink = OutputSink(echo, text=False)

    sink.feed(b"\xff\x00")
    sink.feed(b"")
    assert echo.raw_bytes.getvalue() == b"before:\xff\x00"
    sink.feed(b"\xe2\x82\xac")

    assert echo.raw_bytes.getvalue() == b"before:\xff\x00\xe2\x82\xac"
    assert sink.echoes


def test_decoding_sink_flushes_its_echo_as_text_arrives() -> None:
    echo = _BinaryEcho()
    sink = OutputSink(echo)

    sink.feed("é!".encode())

    assert echo.raw_bytes.getvalue() == "é!".encode()


def test_undecoding_sink_echoes_text_to_a_stream_without_a_buffer() -> None:
    echo = io.StringIO()
    sink = OutputSink(echo, text=False)

    sink.feed(b"ok\xff")

    assert echo.getvalue() == "ok\ufffd"
    assert sink.data == b"ok\xff"


class _HeldEcho(io.StringIO):
    """A text stream without a binary ``buffer`` whose output counts once flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed = ""

    def flush(self) -> None:
        self.flushed = self.getvalue()
        super().flush()


def test_undecoding_sink_flushes_a_text_only_echo_after_writing() -> None:
    echo = _HeldEcho()
    sink = OutputSink(echo, text=False)

    sink.feed(b"ok\xff")

    assert echo.flushed == "ok\ufffd"


def test_sink_without_echo_does_not_echo() -> None:
    assert not OutputSink().echoes
    assert not OutputSink(text=False).echoes


@st.composite
def split_bytes(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(
        st.one_of(
            st.binary(max_size=200),
            st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
        )
    )
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return data, [data[start:end] for start, end in itertools.pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(split_bytes())
def test_sink_matches_one_shot_decoding_for_any_split(
    case: tuple[bytes, list[bytes]],
) -> None:
    data, pieces = case

    sink = feed_all(pieces)

    assert sink.text == data.decode("utf-8", errors="replace")


# --- consume_stream ---------------------------------------------------------------


def test_consume_stream_reads_to_eof_and_returns_the_text() -> None:
    async def scenario() -> tuple[str | bytes, str]:
        reader = asyncio.StreamReader()
        data = "€".encode() * (PUMP_CHUNK_SIZE // 3 + 5) + b"\xe2"
        reader.feed_data(data)
        reader.feed_eof()
        sink = OutputSink()
        text = await consume_stream(reader, sink)
        return text, sink.text

    text, sink_text = asyncio.run(scenario())

    expected = "€" * (PUMP_CHUNK_SIZE // 3 + 5) + "\ufffd"
    assert text == expected
    assert sink_text == expected


def test_consume_stream_keeps_partial_output_when_cancelled() -> None:
    async def scenario() -> str:
        reader = asyncio.StreamReader()
        reader.feed_data(b"partial\n")
        sink = OutputSink()
        task = asyncio.create_task(consume_stream(reader, sink))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return sink.text

    assert asyncio.run(scenario()) == "partial\n"


# --- pump_stream on real pipes -------------------------------------------------------


@pytest.fixture(params=["splice", "copy-loop"])
def pump_path(request: pytest.FixtureRequest) -> typ.Iterator[str]:
    """Run each pump test through ``os.splice`` (where it exists) and the copy loop."""
    if request.param == "splice":
        if not hasattr(os, "splice"):
            pytest.skip("os.splice is Linux-only; the copy loop is tested below")
        yield request.param
        return
    with copy_loop_only():
        yield request.param


async def open_reader(fd: int) -> asyncio.StreamReader:
    """An asyncio reader on the read end ``fd`` of a pipe (takes ownership)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


async def open_writer(fd: int) -> asyncio.StreamWriter:
    """An asyncio writer on the write end ``fd`` of a pipe (takes ownership)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(
        lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()),
        os.fdopen(fd, "wb", buffering=0),
    )
    return asyncio.StreamWriter(transport, protocol, None, loop)


class PipeFeeder(threading.Thread):
    """Writes ``data`` into a blocking pipe end, then closes it."""

    def __init__(self, fd: int, data: bytes) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.data = data
        self.broken = False
        self.written = 0

    def run(self) -> None:
        try:
            view = memoryview(self.data)
            while view:
                count = os.write(self.fd, view[:PUMP_CHUNK_SIZE])
                self.written += count
                view = view[count:]
        except BrokenPipeError:
            self.broken = True
        finally:
            os.close(self.fd)


class PipeDrainer(threading.Thread):
    """Reads a blocking pipe end to EOF, then closes it."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.received = bytearray()
        self.saw_eof = False

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 1 << 20):
                self.received += chunk
            self.saw_eof = True
        finally:
            os.close(self.fd)


def pump_between_pipes(data: bytes) -> tuple[int, PipeDrainer, bool]:
    """Feed ``data`` through pump_stream; return the count, drainer, closed flag."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    feeder = PipeFeeder(in_write, data)
    drainer = PipeDrainer(out_read)

    async def scenario() -> tuple[int, bool]:
        reader = await open_reader(in_read)
        writer = await open_writer(out_write)
        feeder.start()
        drainer.start()
        count = await asyncio.wait_for(pump_stream(reader, writer), timeout=30)
        return count, writer.is_closing()

    count, closed = asyncio.run(scenario())
    feeder.join(timeout=10)
    drainer.join(timeout=10)
    return count, drainer, closed


@pytest.mark.parametrize(
    "size",
    [0, 1, 4096, 65535, 65536, 65537, 2 * 65536, 3 * 1024 * 1024 + 1],
)
def test_pump_moves_bytes_exactly_and_closes_the_writer(size: int, pump_path: str) -> None:
    data = os.urandom(size)
    fds_before = len(os.listdir("/proc/self/fd"))

    count, drainer, closed = pump_between_pipes(data)

    assert count == size
    assert drainer.saw_eof is True  # the pump closed its end at EOF
    assert bytes(drainer.received) == data
    assert closed is True
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_pump_moves_nul_and_non_utf8_bytes_untouched(pump_path: str) -> None:
    data = bytes(range(256)) * 1000 + b"\x00" * 70000

    count, drainer, _ = pump_between_pipes(data)

    assert count == len(data)
    assert bytes(drainer.received) == data


def test_pump_returns_quietly_when_downstream_is_gone(pump_path: str) -> None:
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    os.close(out_read)  # the downstream reader is gone before we start
    feeder = PipeFeeder(in_write, b"x" * (4 * PUMP_CHUNK_SIZE))

    async def scenario() -> tuple[int, bool, bool]:
        reader = await open_reader(in_read)
        writer = await open_writer(out_write)
        feeder.start()
        count = await asyncio.wait_for(pump_stream(reader, writer), timeout=30)
        transport = reader_transport(reader)
        assert transport is not None
        return count, transport.is_closing(), writer.is_closing()

    count, reader_closed, writer_closed = asyncio.run(scenario())
    feeder.join(timeout=10)

    assert count == 0
    assert reader_closed is True  # abandoned, so upstream sees a broken pipe
    assert writer_closed is True
    assert feeder.broken is True
    assert not feeder.is_alive()


def test_pump_stops_when_downstream_goes_away_midway(pump_path: str) -> None:
    # Downstream reads one chunk and leaves; the upstream writer must then
    # get a broken pipe rather than block forever on a full pipe.
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    feeder = PipeFeeder(in_write, b"y" * (64 * PUMP_CHUNK_SIZE))

    async def scenario() -> int:
        reader = await open_reader(in_read)
        writer = await open_writer(out_write)
        feeder.start()
        pump = asyncio.create_task(pump_stream(reader, writer))
        first = await asyncio.to_thread(os.read, out_read, 1024)
        assert first == b"y" * len(first)
        os.close(out_read)
        return await asyncio.wait_for(pump, timeout=30)

    count = asyncio.run(scenario())
    feeder.join(timeout=10)

    assert 0 < count < 64 * PUMP_CHUNK_SIZE
    assert feeder.broken is True


def test_pump_resumes_a_paused_reader(pump_path: str) -> None:
    # Pipelines hand hops over with the reading transport paused.
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    feeder = PipeFeeder(in_write, b"paused data")
    drainer = PipeDrainer(out_read)

    async def scenario() -> int:
        reader = await open_reader(in_read)
        transport = reader_transport(reader)
        assert transport is not None
        transport.pause_reading()
        writer = await open_writer(out_write)
        feeder.start()
        drainer.start()
        return await asyncio.wait_for(pump_stream(reader, writer), timeout=30)

    assert asyncio.run(scenario()) == len(b"paused data")
    drainer.join(timeout=10)
    assert bytes(drainer.received) == b"paused data"


# --- reader helpers -------------------------------------------------------------


def test_reader_without_transport_has_none() -> None:
    async def scenario() -> None:
        reader = asyncio.StreamReader()
        assert reader_transport(reader) is None
        abandon_reader(reader)  # nothing to close: no error

    asyncio.run(scenario())


def test_take_buffered_bytes_empties_the_buffer() -> None:
    async def scenario() -> tuple[bytes, bytes, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"abc")
        reader.feed_data(b"def")
        taken = take_buffered_bytes(reader)
        again = take_buffered_bytes(reader)
        reader.feed_data(b"g")
        reader.feed_eof()
        rest = await reader.read()
        return taken, again, rest

    assert asyncio.run(scenario()) == (b"abcdef", b"", b"g")


def test_abandon_reader_closes_its_pipe_so_the_writer_breaks() -> None:
    read_fd, write_fd = os.pipe()

    async def scenario() -> None:
        reader = await open_reader(read_fd)
        abandon_reader(reader)
        await asyncio.sleep(0)  # let the transport finish closing

    asyncio.run(scenario())

    with pytest.raises(BrokenPipeError):
        os.write(write_fd, b"x")
    os.close(write_fd)


def test_copy_loop_reads_no_further_than_downstream_accepts() -> None:
    # Back-pressure: with nobody reading downstream, the pump must stop
    # reading upstream once the writer's buffer is full, so a slow consumer
    # never makes cuprum hold the producer's whole output in memory.
    total = 64 * 1024 * 1024
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    feeder = PipeFeeder(in_write, bytes(total))
    drainer = PipeDrainer(out_read)

    async def feeder_stalled() -> int:
        # The feeder has stalled once it makes no progress for a while (or
        # it wrote everything, which is what a pump without back-pressure
        # lets it do).
        last = -1
        while feeder.written != last and feeder.written < total:
            last = feeder.written
            await asyncio.sleep(0.25)
        return feeder.written

    async def scenario() -> tuple[int, int, int]:
        reader = await open_reader(in_read)
        writer = await open_writer(out_write)
        feeder.start()
        pump = asyncio.create_task(pump_stream(reader, writer))
        stalled_at = await asyncio.wait_for(feeder_stalled(), timeout=60)
        held = writer.transport.get_write_buffer_size()
        drainer.start()
        return stalled_at, held, await asyncio.wait_for(pump, timeout=60)

    with copy_loop_only():
        stalled_at, held, count = asyncio.run(scenario())
    feeder.join(timeout=10)
    drainer.join(timeout=10)

    assert stalled_at < total // 8  # a few pipe buffers' worth, not the payload
    assert held <= 4 * PUMP_CHUNK_SIZE
    assert count == total
    assert len(drainer.received) == total


def test_the_pump_returns_only_once_the_downstream_pipe_is_closed(pump_path: str) -> None:
    # Whoever awaits the pump may hand the next stage's input over at once:
    # the pipe must be closed by then, not merely scheduled to close.
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    os.write(in_write, b"last")
    os.close(in_write)
    os.set_blocking(out_read, False)

    async def scenario() -> tuple[bytes, bytes]:
        reader = await open_reader(in_read)
        writer = await open_writer(out_write)
        # Awaited directly (no wait_for task, whose wake-up would give the
        # loop a turn), and no await after it: nothing else may run first.
        # The suite's per-test alarm bounds a hang.
        await pump_stream(reader, writer)
        return os.read(out_read, 16), os.read(out_read, 16)

    try:
        assert asyncio.run(scenario()) == (b"last", b"")
    finally:
        os.close(out_read)
