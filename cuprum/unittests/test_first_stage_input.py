"""The first stage's input (``cuprum._sources``), on real files and pipes.

``open_source`` checks ``stdin=`` before anything is spawned; ``write_source``
is the Python writer of the source hop. No process is spawned here: the
"stage" is the read end of a real pipe, read through the event loop. The
pipeline-level behaviour (every type through real stages, on both backends)
is in ``test_stdin_and_bytes.py``; these tests are the fast guard the
mutation kit runs against this module.
"""

from __future__ import annotations

import asyncio
import io
import os
import pathlib
import selectors
import threading
import typing as typ
import warnings
from collections.abc import AsyncGenerator, AsyncIterator

import pytest

from cuprum._backend import StreamBackend
from cuprum._hop_ends import dispatch_source_hop
from cuprum._options import StdinInput
from cuprum._sources import (
    FileSource,
    IterableSource,
    MemorySource,
    Source,
    open_source,
    write_source,
)
from cuprum._streams import PUMP_CHUNK_SIZE
from cuprum.unittests.test_streams import open_reader, open_writer

BOUND = 8.0
"""Hang bound for one hop, far above the milliseconds it takes, and below
the mutation kit's per-test limit, so a hop that never ends fails its test."""

FEED_WAIT = 3.0
"""How long a pipe's feeder waits for its first bytes to reach the stage
(milliseconds of work) before it gives up and sends the rest anyway."""

ACCEPTED = (
    "stdin must be bytes, bytearray, memoryview, str (sent as UTF-8), a path-like "
    "object, an open binary file, a file descriptor (int), or an async iterable of bytes"
)
PAYLOAD = os.urandom(3 * PUMP_CHUNK_SIZE + 7)
TURNS = 100
"""Turns of the event loop (no clock time) that a write needing no wait gets."""


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.fixture
def payload_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "payload.bin"
    path.write_bytes(PAYLOAD)
    return path


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


# --- open_source: what stdin= may be --------------------------------------------------


def test_no_stdin_gives_no_source() -> None:
    assert open_source(None) is None


def test_bytes_like_stdin_is_copied_into_memory() -> None:
    for data in (b"\x00\xffraw", bytearray(b"\x00\xffraw"), memoryview(b"\x00\xffraw")):
        source = open_source(data)
        assert isinstance(source, MemorySource)
        assert source == MemorySource(b"\x00\xffraw")
        assert type(source.data) is bytes
    changing = bytearray(b"before")
    source = open_source(changing)
    changing[:] = b"after!"
    assert source == MemorySource(b"before")


def test_str_stdin_is_sent_as_utf8() -> None:
    assert open_source("grüße €\n") == MemorySource("grüße €\n".encode())


def test_a_path_is_opened_read_only_and_closed_by_its_source(
    payload_file: pathlib.Path,
) -> None:
    source = open_source(payload_file)
    assert isinstance(source, FileSource)
    assert (source.name, source.closed) == (str(payload_file), False)
    assert os.read(source.fd, 16) == PAYLOAD[:16]
    assert not os.get_inheritable(source.fd)  # a stage must not inherit it
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.write(source.fd, b"x")  # opened read-only
    source.close()
    assert source.closed
    assert not _is_open(source.fd)
    source.close()  # idempotent: the descriptor is not closed twice


def test_a_missing_path_is_refused_with_advice(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.bin"
    expected = (
        f"stdin file {str(missing)!r} does not exist; pass an existing file, or pass "
        "bytes or str to send data from memory"
    )
    with pytest.raises(FileNotFoundError) as caught:
        open_source(missing)
    assert str(caught.value) == expected


def test_a_directory_path_is_refused(tmp_path: pathlib.Path) -> None:
    expected = (
        f"stdin file {str(tmp_path)!r} is a directory; pass a regular file, a pipe or a device"
    )
    with pytest.raises(IsADirectoryError) as caught:
        open_source(tmp_path)
    assert str(caught.value) == expected


@pytest.mark.parametrize("flag", [True, False])
def test_a_bool_is_refused_not_taken_for_a_descriptor(flag: bool) -> None:
    # True == 1 and False == 0: accepted as descriptors they would feed the
    # first stage from the caller's stdout or stdin.
    before = open_fds()
    with pytest.raises(TypeError) as caught:
        open_source(flag)
    assert str(caught.value) == f"{ACCEPTED}; got bool"
    assert open_fds() == before


@pytest.mark.parametrize(
    ("stdin", "kind"),
    [(1.5, "float"), (["a"], "list"), (iter([b"a"]), "list_iterator"), (object(), "object")],
)
def test_other_types_are_refused_with_what_is_accepted(stdin: object, kind: str) -> None:
    with pytest.raises(TypeError) as caught:
        open_source(typ.cast(StdinInput, stdin))
    assert str(caught.value) == f"{ACCEPTED}; got {kind}"


def test_a_descriptor_is_duplicated_and_the_callers_stays_open() -> None:
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, b"through the duplicate")
        source = open_source(read_fd)
        assert isinstance(source, FileSource)
        assert source.fd != read_fd
        assert source.name == f"descriptor {read_fd}"
        assert os.read(source.fd, 64) == b"through the duplicate"
        source.close()
        assert _is_open(read_fd)
        os.write(write_fd, b"still mine")
        assert os.read(read_fd, 64) == b"still mine"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_closed_descriptor_is_refused() -> None:
    # Far above any descriptor this process has open.
    with pytest.raises(ValueError, match="not an open file descriptor") as caught:
        open_source(1_000_000)
    assert str(caught.value) == (
        "stdin descriptor 1000000 is not an open file descriptor "
        "(Bad file descriptor); pass an open one"
    )
    assert isinstance(caught.value.__cause__, OSError)


def test_a_binary_file_starts_where_the_callers_reads_continue(
    payload_file: pathlib.Path,
) -> None:
    with open(payload_file, "rb") as handle:
        assert handle.read(10) == PAYLOAD[:10]  # buffered: the OS offset is further on
        source = open_source(typ.cast(StdinInput, handle))
        assert isinstance(source, FileSource)
        assert source.name == f"file {str(payload_file)!r}"
        assert source.fd != handle.fileno()
        assert os.read(source.fd, 32) == PAYLOAD[10:42]
        source.close()
        assert not handle.closed
        assert _is_open(handle.fileno())


def test_an_unseekable_binary_file_is_not_repositioned() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped")
    os.close(write_fd)
    with open(read_fd, "rb") as handle:
        source = open_source(typ.cast(StdinInput, handle))  # a pipe has no offset
        assert isinstance(source, FileSource)
        assert os.read(source.fd, 16) == b"piped"
        source.close()
        assert _is_open(handle.fileno())


class _NamelessRaw(io.RawIOBase):
    """A raw binary stream over a descriptor, without a ``name``."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return True


def test_a_file_without_a_name_is_named_by_its_repr() -> None:
    read_fd, write_fd = os.pipe()
    try:
        handle = io.BufferedReader(_NamelessRaw(read_fd))
        source = open_source(typ.cast(StdinInput, handle))
        assert isinstance(source, FileSource)
        assert source.name == f"file {handle!r}"
        source.close()
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_text_mode_file_is_refused(payload_file: pathlib.Path) -> None:
    with open(payload_file, encoding="latin-1") as handle:
        before = open_fds()
        with pytest.raises(TypeError) as caught:
            open_source(typ.cast(StdinInput, handle))
        assert open_fds() == before  # refused before any duplicate is made
    assert str(caught.value) == (
        "stdin is a text-mode file; open it in binary mode ('rb') or pass its path"
    )


def test_an_async_iterable_is_kept_for_the_writer() -> None:
    async def chunks() -> AsyncGenerator[bytes, None]:
        yield b"x"

    iterable = chunks()
    source = open_source(iterable)
    assert isinstance(source, IterableSource)
    assert source.chunks is iterable
    asyncio.run(iterable.aclose())


# --- write_source: the Python writer ----------------------------------------------------


async def _deliver(source: Source) -> tuple[int, bool, bytes]:
    """Write ``source`` into a pipe read by the loop: (count, closed, bytes read).

    ``closed`` is whether ``write_source`` closed the stage's stdin itself;
    it is closed here otherwise, so that a writer that forgets fails the
    test instead of hanging it.
    """
    out_read, out_write = os.pipe()
    stage = await open_reader(out_read)
    writer = await open_writer(out_write)
    received = asyncio.create_task(stage.read())
    count = await asyncio.wait_for(write_source(source, writer), BOUND)
    closed = writer.is_closing()
    writer.close()
    return count, closed, await asyncio.wait_for(received, BOUND)


def test_a_few_bytes_of_memory_are_written_once() -> None:
    # Runs before the large sizes under the kit: a mutant that cuts memory
    # into overlapping or endless chunks fails here at once.
    assert asyncio.run(_deliver(MemorySource(b"abc"))) == (3, True, b"abc")


@pytest.mark.parametrize("size", [0, 1, PUMP_CHUNK_SIZE, len(PAYLOAD)])
def test_memory_is_written_in_order_and_the_stage_sees_eof(size: int) -> None:
    data = PAYLOAD[:size]
    assert asyncio.run(_deliver(MemorySource(data))) == (size, True, data)


def test_a_regular_file_is_written_from_its_offset_and_left_to_its_owner(
    payload_file: pathlib.Path,
) -> None:
    source = open_source(payload_file)
    assert isinstance(source, FileSource)
    os.lseek(source.fd, 100, os.SEEK_SET)
    try:
        assert asyncio.run(_deliver(source)) == (len(PAYLOAD) - 100, True, PAYLOAD[100:])
        assert _is_open(source.fd)  # closed by its owner (the run), not here
    finally:
        source.close()


def test_a_pipe_source_is_read_as_its_bytes_arrive() -> None:
    """The first bytes reach the stage before the feeder sends the rest.

    They wait in the pipe from the start, so a writer passes them on within
    a few turns of the event loop. One that read the pipe to its end first
    fails at once; one that blocked the event loop reading it holds them
    back until the feeder gives up waiting.
    """
    first = os.urandom(60_000)  # fits the pipe: written here, without waiting
    rest = os.urandom(300_000)
    pipe_read, pipe_write = os.pipe()
    os.write(pipe_write, first)
    source = FileSource(pipe_read, "pipe")
    first_seen = threading.Event()
    abandoned = threading.Event()
    in_time: list[bool] = []

    def feed() -> None:
        try:
            in_time.append(first_seen.wait(FEED_WAIT))
            if not abandoned.is_set():  # the test ended early: nobody reads on
                os.write(pipe_write, rest)
        except BrokenPipeError:
            pass  # the writer failed and its source was closed: the test fails
        finally:
            os.close(pipe_write)

    async def scenario() -> tuple[int, bytes, bool]:
        out_read, out_write = os.pipe()
        stage = await open_reader(out_read)
        writer = await open_writer(out_write)
        writing = asyncio.create_task(write_source(source, writer))

        async def read_stage() -> bytes:
            head = await stage.readexactly(len(first))
            first_seen.set()
            return head + await stage.read()

        received = asyncio.create_task(read_stage())
        for _ in range(TURNS):  # a correct writer needs about 7
            if first_seen.is_set() or writing.done():
                break
            await asyncio.sleep(0)
        assert first_seen.is_set() or writing.done(), f"no byte reached the stage in {TURNS} turns"
        count = await asyncio.wait_for(writing, BOUND)
        writer.close()
        left = asyncio.get_running_loop().remove_reader(source.fd)
        assert not left  # the probe of the source's descriptor left no callback
        return count, await asyncio.wait_for(received, BOUND), _is_open(source.fd)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    fds_before = open_fds()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            count, received, still_open = asyncio.run(scenario())
    finally:
        source.close()  # first, so that a feeder still writing sees a broken pipe
        abandoned.set()
        first_seen.set()
        feeder.join(BOUND)
    assert in_time == [True]
    assert received == first + rest
    assert count == len(first) + len(rest)
    assert still_open  # the writer read a duplicate; the source is its owner's
    assert [str(warning.message) for warning in caught] == []
    assert open_fds() <= fds_before


def test_a_device_the_loop_cannot_wait_on_is_read_directly() -> None:
    # epoll refuses descriptors that are always ready (EPERM): a writer that
    # handed one to the loop would wait for a readiness report never made.
    source = FileSource(os.open(os.devnull, os.O_RDONLY), os.devnull)

    async def scenario() -> tuple[tuple[int, bool, bytes], bool]:
        out_read, out_write = os.pipe()
        stage = await open_reader(out_read)
        writer = await open_writer(out_write)
        writing = asyncio.create_task(write_source(source, writer))
        for _ in range(TURNS):  # no waiting on a device that answers at once
            if writing.done():
                break
            await asyncio.sleep(0)
        assert writing.done(), f"still writing after {TURNS} turns of the loop"
        count = writing.result()
        delivered = (count, writer.is_closing(), await asyncio.wait_for(stage.read(), BOUND))
        return delivered, asyncio.get_running_loop().remove_reader(source.fd)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            delivered, left = asyncio.run(scenario())
    finally:
        source.close()
    assert delivered == (0, True, b"")
    assert not left  # the probe leaves no callback on the loop
    assert [str(warning.message) for warning in caught] == []


def test_an_endless_device_stops_when_the_stage_leaves() -> None:
    source = FileSource(os.open("/dev/zero", os.O_RDONLY), "/dev/zero")
    try:
        assert asyncio.run(_into_a_stage_that_left(source)) == (0, True)
    finally:
        source.close()


def test_a_regular_file_is_read_directly_under_a_loop_that_polls_it(
    payload_file: pathlib.Path,
) -> None:
    # poll(2) and select(2), unlike epoll, accept a regular file (always
    # ready), but asyncio's pipe transport refuses one.
    source = FileSource(os.open(payload_file, os.O_RDONLY), str(payload_file))
    with asyncio.Runner(
        loop_factory=lambda: asyncio.SelectorEventLoop(selectors.PollSelector())
    ) as runner:
        try:
            assert runner.run(_deliver(source)) == (len(PAYLOAD), True, PAYLOAD)
        finally:
            source.close()


def test_an_iterable_of_bytes_like_chunks_is_written() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"one,"
        yield typ.cast(bytes, bytearray(b"two,"))
        yield typ.cast(bytes, memoryview(b"three"))
        yield PAYLOAD

    expected = b"one,two,three" + PAYLOAD
    assert asyncio.run(_deliver(IterableSource(chunks()))) == (len(expected), True, expected)


def test_an_iterable_yielding_text_fails_and_the_stage_still_sees_eof() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"sent "
        yield typ.cast(bytes, "text")

    async def scenario() -> tuple[str, bool, bytes]:
        out_read, out_write = os.pipe()
        stage = await open_reader(out_read)
        writer = await open_writer(out_write)
        with pytest.raises(TypeError) as caught:
            await asyncio.wait_for(write_source(IterableSource(chunks()), writer), BOUND)
        closed = writer.is_closing()
        writer.close()
        return str(caught.value), closed, await asyncio.wait_for(stage.read(), BOUND)

    assert asyncio.run(scenario()) == (
        "stdin async iterable yielded str; it must yield bytes",
        True,
        b"sent ",
    )


# --- a stage that stops reading ------------------------------------------------------------


async def _into_a_stage_that_left(source: Source) -> tuple[int, bool]:
    """Write ``source`` into a pipe whose reader has gone: (count, closed)."""
    out_read, out_write = os.pipe()
    writer = await open_writer(out_write)
    os.close(out_read)
    count = await asyncio.wait_for(write_source(source, writer), BOUND)
    return count, writer.is_closing()


def test_a_stage_that_stops_reading_ends_a_memory_source_quietly() -> None:
    assert asyncio.run(_into_a_stage_that_left(MemorySource(PAYLOAD))) == (0, True)


def test_a_stage_that_stops_reading_releases_a_pipe_source() -> None:
    # The pipe stays open and full: only the writer's own clean-up can
    # release the descriptor it read through.
    pipe_read, pipe_write = os.pipe()
    os.write(pipe_write, b"p" * 1000)
    source = FileSource(pipe_read, "pipe")

    async def scenario() -> tuple[int, bool, set[int]]:
        before = open_fds()
        count, closed = await _into_a_stage_that_left(source)
        return count, closed, open_fds() - before

    try:
        assert asyncio.run(scenario()) == (0, True, set())
        assert _is_open(source.fd)
    finally:
        source.close()
        os.close(pipe_write)


def test_a_stage_that_stops_reading_leaves_the_callers_iterable_open() -> None:
    async def chunks() -> AsyncGenerator[bytes, None]:
        for index in range(3):
            yield bytes([index]) * 10

    async def scenario() -> tuple[int, bool, bytes]:
        iterable = chunks()
        count, closed = await _into_a_stage_that_left(IterableSource(iterable))
        following = await anext(iterable)  # not closed: the caller's to finish
        await iterable.aclose()
        return count, closed, following

    assert asyncio.run(scenario()) == (0, True, bytes([1]) * 10)


@pytest.mark.parametrize("kind", ["memory", "file", "iterable"])
def test_the_writer_waits_for_the_stage_to_drain(kind: str, tmp_path: pathlib.Path) -> None:
    """Nobody reads the stage's pipe: the writer must wait, not buffer everything."""
    data = os.urandom(64 * PUMP_CHUNK_SIZE)
    path = tmp_path / "big.bin"
    path.write_bytes(data)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), PUMP_CHUNK_SIZE):
            yield data[start : start + PUMP_CHUNK_SIZE]

    async def scenario() -> tuple[bool, int, int]:
        source: Source
        if kind == "memory":
            source = MemorySource(data)
        elif kind == "file":
            source = FileSource(os.open(path, os.O_RDONLY), str(path))
        else:
            source = IterableSource(chunks())
        out_read, out_write = os.pipe()
        writer = await open_writer(out_write)
        writing = asyncio.create_task(write_source(source, writer))
        for _ in range(20):  # turns of the loop; each lets the writer go on
            await asyncio.sleep(0)
        waiting = not writing.done()
        buffered = writer.transport.get_write_buffer_size()
        os.close(out_read)  # the stage leaves; the writer stops quietly
        count = await asyncio.wait_for(writing, BOUND)
        if isinstance(source, FileSource):
            source.close()
        return waiting, buffered, count

    waiting, buffered, count = asyncio.run(scenario())
    assert waiting
    assert buffered < 4 * PUMP_CHUNK_SIZE
    assert count < len(data)


# --- the source hop on both backends -----------------------------------------------------


def test_a_callers_descriptor_outlives_the_source_hop(
    stream_backend: StreamBackend, payload_file: pathlib.Path
) -> None:
    caller_fd = os.open(payload_file, os.O_RDONLY)

    async def scenario() -> tuple[int, bool, bytes]:
        source = open_source(caller_fd)
        assert isinstance(source, FileSource)
        out_read, out_write = os.pipe()
        stage = await open_reader(out_read)
        writer = await open_writer(out_write)
        received = asyncio.create_task(stage.read())
        try:
            moved = await asyncio.wait_for(dispatch_source_hop(source, writer), BOUND)
        finally:
            source.close()
        closed = writer.is_closing()
        writer.close()  # if the hop forgot: fail on the assertion, not a hang
        return moved, closed, await asyncio.wait_for(received, BOUND)

    try:
        assert asyncio.run(scenario()) == (len(PAYLOAD), True, PAYLOAD)
        assert _is_open(caller_fd)
    finally:
        os.close(caller_fd)
