"""Every rule of the source and sink hops (``cuprum._hop_ends``), one test each.

The rules are the rows of the hop-kinds table in ``docs/cuprum-design.md``.
Most tests run real pipelines and observe every hop kind; a few work at the
dispatcher level on real pipes for the cases a pipeline rarely reaches (a
closed writer, a reader with no descriptor, output already buffered). The
Rust side is the pure-Python stand-in (every machine) and, where a test is
parametrised with ``rust_side``, the compiled extension too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import pathlib
import sys
import threading
import time
import typing as typ
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from cuprum import CAT, Pipeline, TimeoutExpired, sh
from cuprum._backend import (
    BACKEND_ENV_VAR,
    NATIVE_MODULE_NAME,
    StreamBackend,
    _check_rust_available,
)
from cuprum._hop_ends import dispatch_sink_hop, dispatch_source_hop
from cuprum._options import StdinInput
from cuprum._pipeline_streams import (
    HopKind,
    HopPump,
    HopRecord,
    observe_hops,
    simulate_unusable_descriptors,
)
from cuprum._pipes import PIPE_CAPACITY
from cuprum._sources import FileSource, MemorySource
from cuprum._streams import OutputSink
from tests.helpers.native import StandInNative
from tests.helpers.processes import PYTHON, TEST_CATALOGUE

RUN_TIMEOUT = 20.0
BOUND = 8.0
"""Timeout for runs whose sink is not under test: a mutant that hangs a hop
fails the test after this long instead of after the per-test limit (the
sink tests run without a timeout, which the native consumer needs, and feed
memory into one stage so that source and inter-stage mutants cannot hang them)."""
PAYLOAD = os.urandom(300_000) + "€ end".encode()
RUST = StreamBackend.RUST
PY = StreamBackend.PYTHON


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.fixture(params=["stand-in", "compiled"])
def rust_side(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Rust pathway: the stand-in, or the compiled extension."""
    if request.param == "compiled":
        request.getfixturevalue("real_native")
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
    else:
        request.getfixturevalue("stand_in_native")
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    return str(request.param)


@pytest.fixture
def payload_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "payload.bin"
    path.write_bytes(PAYLOAD)
    return path


def _observe(
    pipeline: Pipeline, *, text: bool = False, **options: typ.Any
) -> tuple[typ.Any, list[HopRecord]]:
    with observe_hops(list(HopKind)) as hops:
        result = pipeline.run_sync(text=text, timeout=options.pop("timeout", None), **options)
    return result, list(hops)


def _cat(stages: int = 1) -> Pipeline:
    cat = sh.make(CAT)
    return Pipeline(tuple(cat() for _ in range(stages)))


def _of(hops: list[HopRecord], kind: HopKind) -> list[tuple[object, ...]]:
    return [
        (hop.backend, hop.pump, hop.forced_fallback, hop.bytes_moved)
        for hop in hops
        if hop.kind is kind
    ]


# --- source hop -----------------------------------------------------------


def test_python_source_writes_a_file_with_the_python_writer(
    monkeypatch: pytest.MonkeyPatch, payload_file: pathlib.Path
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    result, hops = _observe(_cat(2), stdin=payload_file, timeout=BOUND)
    assert result.stdout == PAYLOAD
    assert _of(hops, HopKind.SOURCE) == [(PY, HopPump.PYTHON, False, len(PAYLOAD))]


def test_rust_source_splices_a_file_with_the_rust_pump(
    rust_side: str, payload_file: pathlib.Path
) -> None:
    result, hops = _observe(_cat(2), stdin=payload_file, timeout=BOUND)
    assert result.stdout == PAYLOAD
    assert _of(hops, HopKind.SOURCE) == [(RUST, HopPump.RUST, False, len(PAYLOAD))]


@pytest.mark.parametrize("kind", ["bytes", "str", "async-iterable"])
def test_rust_source_writes_memory_and_iterables_with_the_python_writer(
    rust_side: str, kind: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(PAYLOAD), 70_000):
            yield PAYLOAD[start : start + 70_000]

    data = PAYLOAD.decode("latin-1")
    inputs: dict[str, StdinInput] = {"bytes": PAYLOAD, "str": data, "async-iterable": chunks()}
    stdin = inputs[kind]
    expected = data.encode() if kind == "str" else PAYLOAD
    result, hops = _observe(_cat(), stdin=stdin, timeout=BOUND)
    assert result.stdout == expected
    assert _of(hops, HopKind.SOURCE) == [(RUST, HopPump.PYTHON, False, len(expected))]


def test_rust_source_with_unusable_descriptors_falls_back_without_losing_bytes(
    rust_side: str, payload_file: pathlib.Path
) -> None:
    with simulate_unusable_descriptors():
        result, hops = _observe(_cat(2), stdin=payload_file, timeout=BOUND)
    assert result.stdout == PAYLOAD
    assert _of(hops, HopKind.SOURCE) == [(RUST, HopPump.PYTHON, True, len(PAYLOAD))]


def test_rust_source_pump_stops_quietly_when_the_stage_stops_reading(
    rust_side: str, tmp_path: pathlib.Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * 1024 * 1024))  # more than a (1 MiB) pipe holds
    head = sh.make("head")("-c", "5")
    result, hops = _observe(Pipeline((head,)), stdin=big, timeout=BOUND)
    assert result.ok
    assert result.stdout == big.read_bytes()[:5]
    [source] = [hop for hop in hops if hop.kind is HopKind.SOURCE]
    assert (source.backend, source.pump, source.forced_fallback) == (RUST, HopPump.RUST, False)
    assert source.bytes_moved < big.stat().st_size


def _run(scenario: Callable[[], Awaitable[typ.Any]]) -> typ.Any:
    return asyncio.run(asyncio.wait_for(scenario(), 10))


async def _writer_on_pipe() -> tuple[asyncio.StreamWriter, int]:
    read_fd, write_fd = os.pipe()
    loop = asyncio.get_running_loop()
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(
        lambda: protocol, os.fdopen(write_fd, "wb", buffering=0)
    )
    return asyncio.StreamWriter(transport, protocol, None, loop), read_fd


def test_rust_source_into_a_closed_writer_is_a_forced_fallback(
    stand_in_native: StandInNative,
) -> None:
    async def scenario() -> list[HopRecord]:
        writer, read_fd = await _writer_on_pipe()
        writer.close()
        file_read, file_write = os.pipe()
        os.close(file_write)
        with observe_hops([HopKind.SOURCE]) as hops:
            await dispatch_source_hop(FileSource(file_read, "pipe"), writer, backend=RUST)
        os.close(file_read)
        os.close(read_fd)
        return hops

    assert [(h.pump, h.forced_fallback, h.kind) for h in _run(scenario)] == [
        (HopPump.PYTHON, True, HopKind.SOURCE)
    ]
    assert stand_in_native.calls == 0


@pytest.mark.parametrize("hop", ["source", "sink"])
def test_forced_rust_without_the_extension_raises_on_end_hops(
    monkeypatch: pytest.MonkeyPatch, native_absent: None, hop: str
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    async def scenario() -> None:
        writer, read_fd = await _writer_on_pipe()
        try:
            if hop == "source":
                await dispatch_source_hop(MemorySource(b"x"), writer)
            else:
                reader = asyncio.StreamReader()
                reader.feed_eof()
                await dispatch_sink_hop(reader, OutputSink(), bounded=False)
        finally:
            writer.close()
            os.close(read_fd)

    with pytest.raises(ImportError, match=BACKEND_ENV_VAR):
        _run(scenario)


def test_cancelling_a_rust_source_hop_wakes_its_pump_thread(rust_side: str) -> None:
    """A file source that never ends (a pipe held open) can still be stopped."""

    async def scenario() -> bool:
        writer, down_read = await _writer_on_pipe()
        source_read, source_write = os.pipe()
        baseline = open_fds()
        task = asyncio.create_task(
            dispatch_source_hop(FileSource(source_read, "pipe"), writer, backend=RUST)
        )
        await asyncio.sleep(0.3)  # the pump now waits on an empty, open pipe
        assert open_fds() > baseline
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        deadline = time.monotonic() + 3
        while not open_fds() <= baseline and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        woke = open_fds() <= baseline
        os.close(source_write)  # unblock a pump that ignored the cancellation
        os.close(source_read)
        os.close(down_read)
        return woke

    assert _run(scenario) is True


# --- sink hop -------------------------------------------------------------


def test_python_sink_uses_the_python_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    result, hops = _observe(_cat(), stdin="tekst €", text=True)
    assert result.stdout == "tekst €"
    assert _of(hops, HopKind.SINK) == [(PY, HopPump.PYTHON, False, len("tekst €".encode()))]


def test_rust_sink_reads_text_with_the_native_consumer(rust_side: str) -> None:
    fds = open_fds()
    result, hops = _observe(_cat(), stdin=PAYLOAD, text=True)
    expected = PAYLOAD.decode("utf-8", errors="replace")
    assert result.stdout == expected
    assert _of(hops, HopKind.SINK) == [(RUST, HopPump.RUST, False, len(expected.encode()))]
    assert open_fds() == fds


@pytest.mark.parametrize(
    ("text", "options"),
    [(False, {}), (True, {"echo": True}), (True, {"timeout": RUN_TIMEOUT})],
    ids=["bytes", "echo", "timeout"],
)
def test_rust_sink_uses_the_python_consumer_where_the_native_one_cannot(
    rust_side: str, text: bool, options: dict[str, typ.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result, hops = _observe(_cat(), stdin=PAYLOAD, text=text, **options)
    expected: str | bytes = PAYLOAD.decode("utf-8", errors="replace") if text else PAYLOAD
    assert result.stdout == expected
    assert _of(hops, HopKind.SINK) == [(RUST, HopPump.PYTHON, False, len(PAYLOAD))]
    if options.get("echo"):
        assert capsys.readouterr().out == expected


def test_rust_sink_with_unusable_descriptors_falls_back_without_losing_bytes(
    rust_side: str,
) -> None:
    with simulate_unusable_descriptors():
        result, hops = _observe(_cat(), stdin=PAYLOAD, text=True)
    assert result.stdout == PAYLOAD.decode("utf-8", errors="replace")
    assert _of(hops, HopKind.SINK) == [(RUST, HopPump.PYTHON, True, len(PAYLOAD))]


def test_rust_sink_on_a_reader_without_a_descriptor_is_a_forced_fallback(
    stand_in_native: StandInNative,
) -> None:
    async def scenario() -> tuple[str | bytes, list[HopRecord]]:
        reader = asyncio.StreamReader()
        reader.feed_data("caf€".encode())
        reader.feed_eof()
        sink = OutputSink()
        with observe_hops([HopKind.SINK]) as hops:
            await dispatch_sink_hop(reader, sink, bounded=False, backend=RUST)
        return sink.value, hops

    value, hops = _run(scenario)
    assert value == "caf€"
    assert [(h.pump, h.forced_fallback, h.bytes_moved) for h in hops] == [(HopPump.PYTHON, True, 6)]
    assert stand_in_native.consumed == 0


def test_rust_sink_with_output_already_buffered_uses_the_python_consumer(
    stand_in_native: StandInNative,
) -> None:
    """A character split between asyncio's buffer and the pipe decodes once."""

    async def scenario() -> tuple[str | bytes, list[HopRecord]]:
        read_fd, write_fd = os.pipe()
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        transport.pause_reading()
        euro = "€".encode()
        reader.feed_data(euro[:1])
        os.write(write_fd, euro[1:])
        os.close(write_fd)
        sink = OutputSink()
        with observe_hops([HopKind.SINK]) as hops:
            await dispatch_sink_hop(reader, sink, bounded=False, backend=RUST)
        return sink.value, hops

    value, hops = _run(scenario)
    assert value == "€"
    assert [(h.pump, h.forced_fallback) for h in hops] == [(HopPump.PYTHON, False)]
    assert stand_in_native.consumed == 0


def test_rust_sink_keeps_partial_output_on_timeout(rust_side: str) -> None:
    script = "import sys, time; sys.stdout.write('partial €'); sys.stdout.flush(); time.sleep(30)"
    command = sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", script)
    with pytest.raises(TimeoutExpired) as caught:
        command.run_sync(timeout=1.5)
    assert caught.value.stdout == "partial €"


def test_rust_sink_text_is_identical_for_utf8_split_across_reads(rust_side: str) -> None:
    script = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "for piece in (b'a\\xe2', b'\\x82', b'\\xacb\\xf0\\x9f', b'\\x98\\x80\\xff'):\n"
        "    out.write(piece); out.flush(); time.sleep(0.05)\n"
    )
    command = sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", script)
    with observe_hops([HopKind.SINK]) as hops:
        result = command.run_sync()
    assert result.stdout == "a€b😀\ufffd"
    assert [h.pump for h in hops] == [HopPump.RUST]


def test_text_mode_file_source_is_not_binary(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x")
    with open(path, encoding="utf-8") as handle, pytest.raises(TypeError, match="binary"):
        _cat().run_sync(stdin=typ.cast(io.BufferedReader, handle))


@pytest.mark.parametrize("hop", ["source", "sink"])
def test_an_explicit_backend_wins_over_the_environment_on_end_hops(
    monkeypatch: pytest.MonkeyPatch, native_absent: None, hop: str
) -> None:
    """Forced rust without the extension would raise; the run's PYTHON is used."""
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    async def scenario() -> tuple[str | bytes, list[HopRecord]]:
        writer, read_fd = await _writer_on_pipe()
        with observe_hops([HopKind.SOURCE, HopKind.SINK]) as hops:
            if hop == "source":
                await dispatch_source_hop(MemorySource(b"explicit"), writer, backend=PY)
                value: str | bytes = os.read(read_fd, 100)
            else:
                reader = asyncio.StreamReader()
                reader.feed_data(b"explicit")
                reader.feed_eof()
                sink = OutputSink()
                await dispatch_sink_hop(reader, sink, bounded=False, backend=PY)
                writer.close()
                value = sink.value
        os.close(read_fd)
        return value, hops

    value, hops = _run(scenario)
    assert value in (b"explicit", "explicit")
    assert [(h.backend, h.pump, h.forced_fallback, h.bytes_moved) for h in hops] == [
        (PY, HopPump.PYTHON, False, 8)
    ]


class _SlowToStop(StandInNative):
    """The stand-in pump, taking a while to unwind once cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.returned = threading.Event()

    def rust_pump_stream(
        self, reader_fd: int, writer_fd: int, buffer_size: int = 65536, cancel_fd: int = -1
    ) -> int:
        try:
            moved = super().rust_pump_stream(reader_fd, writer_fd, buffer_size, cancel_fd)
            time.sleep(0.5)
            return moved
        finally:
            self.returned.set()


def test_a_cancelled_rust_source_hop_ends_after_its_pump_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing of a cancelled source hop (thread, descriptors) outlives its task."""
    native = _SlowToStop()
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, native)
    _check_rust_available.cache_clear()

    async def scenario() -> tuple[bool, bool]:
        writer, down_read = await _writer_on_pipe()
        source_read, source_write = os.pipe()
        baseline = open_fds()
        task = asyncio.create_task(
            dispatch_source_hop(FileSource(source_read, "pipe"), writer, backend=RUST)
        )
        await asyncio.sleep(0.3)  # the pump waits on an empty pipe held open
        assert open_fds() > baseline
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        outcome = native.returned.is_set(), open_fds() <= baseline
        for fd in (source_write, source_read, down_read):
            os.close(fd)
        return outcome

    assert _run(scenario) == (True, True)
    assert native.calls == 1


class _PipeSizeRecorder(StandInNative):
    """The stand-in pump, noting the downstream pipe's capacity it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.capacities: list[int] = []

    def rust_pump_stream(
        self, reader_fd: int, writer_fd: int, buffer_size: int = 65536, cancel_fd: int = -1
    ) -> int:
        self.capacities.append(fcntl.fcntl(writer_fd, fcntl.F_GETPIPE_SZ))
        return super().rust_pump_stream(reader_fd, writer_fd, buffer_size, cancel_fd)


def test_a_rust_source_hop_enlarges_the_first_stages_pipe(
    monkeypatch: pytest.MonkeyPatch, payload_file: pathlib.Path
) -> None:
    """Fewer wake-ups: the pipe the file is spliced into is enlarged, like hop pipes."""
    native = _PipeSizeRecorder()
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, native)
    _check_rust_available.cache_clear()

    async def scenario() -> bytes:
        writer, down_read = await _writer_on_pipe()
        fcntl.fcntl(writer.get_extra_info("pipe").fileno(), fcntl.F_SETPIPE_SZ, 4096)
        # Read on the loop, not a thread: a mutant that never ends the hop
        # then fails at _run's bound instead of hanging asyncio.run's exit.
        downstream = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(downstream),
            os.fdopen(down_read, "rb", buffering=0),
        )
        source = FileSource(os.open(payload_file, os.O_RDONLY), "payload")
        try:
            # A hop that fails ends the test at once, not at the bound.
            received, _ = await asyncio.gather(
                downstream.read(), dispatch_source_hop(source, writer, backend=RUST)
            )
        finally:
            source.close()
        return received

    assert _run(scenario) == PAYLOAD
    limit = int(pathlib.Path("/proc/sys/fs/pipe-max-size").read_text())
    assert native.capacities == [min(PIPE_CAPACITY, limit)]
