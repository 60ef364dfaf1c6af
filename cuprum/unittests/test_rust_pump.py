"""Tests of the compiled ``cuprum._rust_backend_native`` module.

Real pipes, real files and real descriptors throughout: nothing is mocked.
The whole module is skipped when the extension has not been built.
"""

from __future__ import annotations

import errno
import faulthandler
import os
import subprocess
import sys
import threading
import time
import typing as typ
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.native import python_stand_in_pump

compiled: typ.Any = pytest.importorskip(
    "cuprum._rust_backend_native",
    reason="needs the compiled native extension cuprum._rust_backend_native "
    "(build it with `make native`)",
)

# How long any one blocking step (a pump call, a helper thread) may take
# before its test fails. Healthy steps take well under a second even on a
# loaded 2-core machine; a broken pump fails its test in seconds instead of
# stalling the run (and every mutation run) until an outer timeout.
JOIN_TIMEOUT = 10.0
WATCHDOG_SECONDS = 120
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _hang_watchdog() -> typ.Iterator[None]:
    """Turn a hung pump into a failed run instead of a stalled CI job.

    A pump that held the GIL or never saw EOF would block every Python
    thread; faulthandler's watchdog runs in C, dumps all tracebacks and
    exits the process.
    """
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


# --------------------------------------------------------------------- helpers


class _Worker:
    """A daemon thread whose result or exception is collected on ``join``."""

    def __init__(self, target: typ.Callable[[], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None
        self._target = target
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._target()
        except BaseException as exc:  # re-raised in join()
            self.error = exc

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float = JOIN_TIMEOUT) -> object:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"still running {timeout:g} s later: the pump hangs"
        if self.error is not None:
            raise self.error
        return self.result


class _BoundedNative:
    """The compiled module with every pump call bounded by ``JOIN_TIMEOUT``.

    Each call runs on a daemon thread and is awaited for at most
    ``JOIN_TIMEOUT`` seconds, so a pump that never returns fails the test
    instead of blocking the main thread inside native code, where neither
    the per-test alarm nor pytest can interrupt it. The hung thread is left
    behind; it is a daemon and does not keep the process alive.
    """

    def __init__(self, module: typ.Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> typ.Any:
        return getattr(self._module, name)

    def rust_pump_stream(self, *args: object, **kwargs: object) -> object:
        return _Worker(lambda: self._module.rust_pump_stream(*args, **kwargs)).join()

    def rust_consume_stream(self, *args: object, **kwargs: object) -> object:
        return _Worker(lambda: self._module.rust_consume_stream(*args, **kwargs)).join()


native: typ.Any = _BoundedNative(compiled)


def _write_then_close(fd: int, data: bytes, *, chunk: int = MIB, pause: float = 0.0) -> int:
    """Write ``data`` to ``fd`` (slowly if asked), close it, return bytes sent.

    A reader that went away (``EPIPE``) just ends the writing early.
    """
    sent = 0
    view = memoryview(data)
    try:
        while sent < len(data):
            sent += os.write(fd, view[sent : sent + chunk])
            if pause:
                time.sleep(pause)
    except BrokenPipeError:
        pass
    finally:
        os.close(fd)
    return sent


def _read_then_close(fd: int, *, limit: int | None = None) -> bytes:
    """Read ``fd`` to EOF (or until ``limit`` bytes), then close it."""
    parts: list[bytes] = []
    total = 0
    try:
        while limit is None or total < limit:
            want = 65536 if limit is None else min(65536, limit - total)
            block = os.read(fd, want)
            if not block:
                break
            parts.append(block)
            total += len(block)
    finally:
        os.close(fd)
    return b"".join(parts)


def _pump_through_pipes(
    payload: bytes,
    *,
    nonblocking: bool = False,
    buffer_size: int = 65536,
    chunk: int = MIB,
    pause: float = 0.0,
) -> tuple[int, bytes]:
    """Run ``payload`` through pipe -> rust_pump_stream -> pipe.

    Checks on the way that the pump left both of its descriptors open and
    their blocking mode unchanged. Returns (count reported, bytes received).
    """
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    if nonblocking:
        os.set_blocking(in_r, False)
        os.set_blocking(out_w, False)
    producer = _Worker(lambda: _write_then_close(in_w, payload, chunk=chunk, pause=pause))
    consumer = _Worker(lambda: _read_then_close(out_r))
    try:
        moved = native.rust_pump_stream(in_r, out_w, buffer_size)
        os.fstat(in_r)  # raises OSError(EBADF) if the pump had closed it
        os.fstat(out_w)
        assert os.get_blocking(in_r) is not nonblocking
        assert os.get_blocking(out_w) is not nonblocking
    finally:
        os.close(out_w)
        os.close(in_r)
    assert producer.join() == len(payload)
    received = consumer.join()
    assert isinstance(received, bytes)
    return moved, received


def _consume(data: bytes, *, buffer_size: int = 65536, pause: float = 0.0) -> str:
    """Feed ``data`` through a pipe into rust_consume_stream."""
    read_fd, write_fd = os.pipe()
    producer = _Worker(lambda: _write_then_close(write_fd, data, chunk=4096, pause=pause))
    try:
        text = native.rust_consume_stream(read_fd, buffer_size)
        os.fstat(read_fd)  # still open
    finally:
        os.close(read_fd)
    producer.join()
    assert isinstance(text, str)
    return text


def _closed_fd() -> int:
    """Return a descriptor number that was just closed."""
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    return fd


# --------------------------------------------------------------------- pump
# The GIL test comes first: if the GIL were held, the thread-based tests
# below would deadlock (and be ended by the watchdog) before reaching it.


def test_pump_releases_gil_while_blocked() -> None:
    """Another Python thread keeps running while the pump waits for input.

    The input comes from a child process that writes only after a delay, so
    a pump that held the GIL would still finish: the test fails on the
    counter instead of hanging.
    """
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time; time.sleep(0.6); os.write(1, b'late data')",
        ],
        stdout=in_w,
    )
    os.close(in_w)
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    try:
        time.sleep(0.05)  # let the counter get going
        before = ticks
        moved = native.rust_pump_stream(in_r, out_w)
        during = ticks - before
    finally:
        stop.set()
        counter.join(JOIN_TIMEOUT)
        child.wait(JOIN_TIMEOUT)
        os.close(in_r)
        os.close(out_w)
    try:
        assert os.read(out_r, 100) == b"late data"
    finally:
        os.close(out_r)
    assert moved == len(b"late data")
    assert child.returncode == 0
    # ~0.5 s blocked at ~1 tick/ms; a GIL-holding pump would allow ~0.
    assert during >= 50, f"counter advanced only {during} times during the pump"


def test_is_available() -> None:
    assert native.is_available() is True


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 5 * MIB])
def test_pump_copies_pipe_to_pipe_byte_exact(size: int) -> None:
    payload = os.urandom(size)
    moved, received = _pump_through_pipes(payload)
    assert moved == size
    assert len(received) == size
    assert received == payload


@pytest.mark.parametrize("size", [0, 1, 65537, 2 * MIB + 3])
def test_pump_on_nonblocking_descriptors(size: int) -> None:
    payload = os.urandom(size)
    moved, received = _pump_through_pipes(payload, nonblocking=True, chunk=7919, pause=0.0005)
    assert moved == size
    assert received == payload


def test_pump_nonblocking_with_slow_consumer() -> None:
    """The writer end fills up, so the pump must wait for POLLOUT."""
    payload = os.urandom(3 * MIB)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    os.set_blocking(in_r, False)
    os.set_blocking(out_w, False)

    def slow_reader() -> bytes:
        parts = []
        try:
            while block := os.read(out_r, 16384):
                parts.append(block)
                time.sleep(0.0002)
        finally:
            os.close(out_r)
        return b"".join(parts)

    producer = _Worker(lambda: _write_then_close(in_w, payload))
    consumer = _Worker(slow_reader)
    try:
        moved = native.rust_pump_stream(in_r, out_w)
    finally:
        os.close(out_w)
        os.close(in_r)
    producer.join()
    assert moved == len(payload)
    assert consumer.join() == payload


@pytest.mark.parametrize("buffer_size", [1, 3, 4096, 65536, MIB])
def test_pump_buffer_sizes(buffer_size: int) -> None:
    payload = os.urandom(100_003)
    moved, received = _pump_through_pipes(payload, buffer_size=buffer_size)
    assert moved == len(payload)
    assert received == payload


def test_pump_default_buffer_size_argument() -> None:
    read_fd, write_fd = os.pipe()
    out_r, out_w = os.pipe()
    os.write(write_fd, b"hello")
    os.close(write_fd)
    try:
        assert native.rust_pump_stream(read_fd, out_w) == 5
        assert native.rust_pump_stream(reader_fd=read_fd, writer_fd=out_w) == 0
        assert os.read(out_r, 100) == b"hello"
    finally:
        for fd in (read_fd, out_r, out_w):
            os.close(fd)


def test_pump_regular_file_to_pipe(tmp_path: Path) -> None:
    payload = os.urandom(300_001)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    out_r, out_w = os.pipe()
    consumer = _Worker(lambda: _read_then_close(out_r))
    file_fd = os.open(source, os.O_RDONLY)
    try:
        moved = native.rust_pump_stream(file_fd, out_w)
        assert os.lseek(file_fd, 0, os.SEEK_CUR) == len(payload)
    finally:
        os.close(file_fd)
        os.close(out_w)
    assert moved == len(payload)
    assert consumer.join() == payload


def test_pump_pipe_to_append_only_file(tmp_path: Path) -> None:
    """splice(2) refuses O_APPEND targets: the fallback must keep every byte."""
    payload = os.urandom(200_000)
    target = tmp_path / "target.bin"
    target.write_bytes(b"header|")
    in_r, in_w = os.pipe()
    producer = _Worker(lambda: _write_then_close(in_w, payload, chunk=9000))
    file_fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    try:
        moved = native.rust_pump_stream(in_r, file_fd)
    finally:
        os.close(file_fd)
        os.close(in_r)
    producer.join()
    assert moved == len(payload)
    assert target.read_bytes() == b"header|" + payload


def test_pump_file_to_append_only_file(tmp_path: Path) -> None:
    """Neither end is a pipe, and the output refuses splice."""
    payload = os.urandom(250_000)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    target = tmp_path / "target.bin"
    target.write_bytes(b"x")
    src_fd = os.open(source, os.O_RDONLY)
    dst_fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    try:
        moved = native.rust_pump_stream(src_fd, dst_fd, 65536)
    finally:
        os.close(src_fd)
        os.close(dst_fd)
    assert moved == len(payload)
    assert target.read_bytes() == b"x" + payload


def test_pump_stops_quietly_when_downstream_closed_first() -> None:
    payload = os.urandom(MIB)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    os.close(out_r)  # downstream reader gone before the pump starts
    producer = _Worker(lambda: _write_then_close(in_w, payload))
    try:
        moved = native.rust_pump_stream(in_r, out_w)
        os.fstat(out_w)
    finally:
        os.close(out_w)
        os.close(in_r)  # lets the producer stop with EPIPE
    producer.join()
    assert moved == 0
    assert moved < len(payload)


def test_pump_stops_quietly_when_downstream_closes_midway() -> None:
    payload = os.urandom(4 * MIB)
    keep = 100_000
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    producer = _Worker(lambda: _write_then_close(in_w, payload, chunk=32768))
    consumer = _Worker(lambda: _read_then_close(out_r, limit=keep))
    try:
        moved = native.rust_pump_stream(in_r, out_w)
    finally:
        os.close(out_w)
        os.close(in_r)
    producer.join()
    assert consumer.join() == payload[:keep]
    assert keep <= moved < len(payload)


def test_pump_closed_reader_is_ebadf() -> None:
    out_r, out_w = os.pipe()
    try:
        with pytest.raises(OSError, match=r"Bad file descriptor") as excinfo:
            native.rust_pump_stream(_closed_fd(), out_w)
        assert excinfo.value.errno == errno.EBADF
        os.fstat(out_w)
    finally:
        os.close(out_r)
        os.close(out_w)


def test_pump_closed_writer_is_ebadf() -> None:
    in_r, in_w = os.pipe()
    os.write(in_w, b"data")
    os.close(in_w)
    try:
        with pytest.raises(OSError, match=r"Bad file descriptor") as excinfo:
            native.rust_pump_stream(in_r, _closed_fd())
        assert excinfo.value.errno == errno.EBADF
    finally:
        os.close(in_r)


@pytest.mark.parametrize(
    ("reader", "writer", "name"),
    [(-1, 1, "reader_fd"), (0, -1, "writer_fd"), (-7, -7, "reader_fd")],
)
def test_pump_rejects_negative_fds(reader: int, writer: int, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be a non-negative"):
        native.rust_pump_stream(reader, writer)


def test_pump_negative_fd_message_is_exact() -> None:
    with pytest.raises(ValueError, match=r"^reader_fd") as excinfo:
        native.rust_pump_stream(-1, 1)
    assert str(excinfo.value) == ("reader_fd must be a non-negative file descriptor, got -1")


@pytest.mark.parametrize("size", [0, -1, 64 * MIB + 1, 2**40])
def test_pump_rejects_bad_buffer_size(size: int) -> None:
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(ValueError, match=r"between 1 and 67108864") as excinfo:
            native.rust_pump_stream(read_fd, write_fd, size)
        assert str(excinfo.value).endswith(f"got {size}")
        os.fstat(read_fd)  # validation failure closed nothing either
        os.fstat(write_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_pump_runs_concurrently_in_threads() -> None:
    """Two pumps in two threads, each fed by the other's output: a pump that
    held the GIL (or serialised calls) would deadlock here."""
    payload = os.urandom(2 * MIB)
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    c_r, c_w = os.pipe()

    def stage(reader: int, writer: int) -> int:
        try:
            moved: int = native.rust_pump_stream(reader, writer)
        finally:
            os.close(reader)
            os.close(writer)
        return moved

    first = _Worker(lambda: stage(a_r, b_w))
    second = _Worker(lambda: stage(b_r, c_w))
    producer = _Worker(lambda: _write_then_close(a_w, payload))
    received = _read_then_close(c_r)
    assert producer.join() == len(payload)
    assert first.join() == len(payload)
    assert second.join() == len(payload)
    assert received == payload


# --------------------------------------------------------------------- consume

UTF8_SAMPLE = "a\u00e9\u20ac\U0001f600z\u0416\U00010348!"


def test_consume_reads_to_eof_and_leaves_fd_open() -> None:
    assert _consume(b"") == ""
    assert _consume(b"plain ascii") == "plain ascii"
    payload = ("line \u00e9\u20ac\n" * 50_000).encode()
    assert _consume(payload) == payload.decode()


def test_consume_nonblocking_slow_writer() -> None:
    payload = (UTF8_SAMPLE * 5000).encode()
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    producer = _Worker(lambda: _write_then_close(write_fd, payload, chunk=1021, pause=0.0002))
    try:
        text = native.rust_consume_stream(read_fd)
        assert os.get_blocking(read_fd) is False
    finally:
        os.close(read_fd)
    producer.join()
    assert text == payload.decode()


def test_consume_every_chunk_boundary_decodes_whole_payload() -> None:
    """Reads split multi-byte characters; decoding happens on the whole."""
    data = UTF8_SAMPLE.encode()
    for buffer_size in range(1, len(data) + 2):
        assert _consume(data, buffer_size=buffer_size) == UTF8_SAMPLE


def test_consume_every_truncation_matches_python() -> None:
    data = UTF8_SAMPLE.encode()
    for cut in range(len(data) + 1):
        for piece in (data[:cut], data[cut:], data[:cut] + b"\xff" + data[cut:]):
            assert _consume(piece) == piece.decode("utf-8", "replace"), piece


def test_consume_known_invalid_sequences() -> None:
    cases = {
        b"\xe2\x82": "\ufffd",
        b"\xf0\x80\x80": "\ufffd\ufffd\ufffd",
        b"\xed\xa0\x80": "\ufffd\ufffd\ufffd",
        b"\xf4\x90\x80\x80": "\ufffd\ufffd\ufffd\ufffd",
        b"\xc0\xaf": "\ufffd\ufffd",
        b"a\x80b": "a\ufffdb",
    }
    for raw, expected in cases.items():
        assert raw.decode("utf-8", "replace") == expected  # the oracle itself
        assert _consume(raw) == expected


_fragments = st.one_of(
    st.binary(max_size=6),
    st.text(max_size=6).map(str.encode),
    st.integers(0xD800, 0xDFFF).map(lambda c: chr(c).encode("utf-8", "surrogatepass")),
    st.text(min_size=1, max_size=1)
    .map(str.encode)
    .flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
    st.sampled_from([b"\xc0", b"\xc1", b"\xf5", b"\xff", b"\xe0\x80", b"\xf0\x8f"]),
)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4096))
def test_consume_matches_python_on_random_binary(data: bytes) -> None:
    assert _consume(data) == data.decode("utf-8", errors="replace")


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(_fragments, max_size=40),
    buffer_size=st.integers(min_value=1, max_value=64),
)
def test_consume_matches_python_on_mixed_utf8(pieces: list[bytes], buffer_size: int) -> None:
    data = b"".join(pieces)
    expected = data.decode("utf-8", errors="replace")
    assert _consume(data, buffer_size=buffer_size) == expected


def test_consume_validates_arguments() -> None:
    with pytest.raises(ValueError, match=r"^fd must be a non-negative"):
        native.rust_consume_stream(-1)
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(ValueError, match=r"between 1 and 67108864"):
            native.rust_consume_stream(read_fd, 0)
        os.fstat(read_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    with pytest.raises(OSError, match=r"Bad file descriptor") as excinfo:
        native.rust_consume_stream(_closed_fd())
    assert excinfo.value.errno == errno.EBADF


# --------------------------------------------------------------------- cancel

CANCEL_DEADLINE = 2.0  # a cancelled pump must return within this
SETTLE = 0.2  # how long a pump is left blocked before it is cancelled


def _native_pump(reader_fd: int, writer_fd: int, cancel_fd: int) -> int:
    moved: int = native.rust_pump_stream(reader_fd, writer_fd, cancel_fd=cancel_fd)
    return moved


def _stand_in_pump(reader_fd: int, writer_fd: int, cancel_fd: int) -> int:
    return python_stand_in_pump(reader_fd, writer_fd, cancel_fd=cancel_fd)


_Pump = typ.Callable[[int, int, int], int]

# The stand-in is only meant for asyncio's non-blocking descriptors (a
# blocking write cannot be interrupted from Python), so it runs only there.
CANCEL_CASES = [
    pytest.param(_native_pump, False, id="native-blocking"),
    pytest.param(_native_pump, True, id="native-nonblocking"),
    pytest.param(_stand_in_pump, True, id="stand-in-nonblocking"),
]


def _drain_now(fd: int) -> bytes:
    """Return what ``fd`` holds right now, without blocking or closing it."""
    was_blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    parts: list[bytes] = []
    try:
        while True:
            try:
                block = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not block:
                break
            parts.append(block)
    finally:
        os.set_blocking(fd, was_blocking)
    return b"".join(parts)


def _cancel_and_join(worker: _Worker, fire: typ.Callable[[], object]) -> object:
    """Check ``worker`` is still blocked, ``fire``, and return its result.

    The join fails if the worker is still running ``CANCEL_DEADLINE``
    seconds after ``fire``.
    """
    time.sleep(SETTLE)
    assert worker.is_alive(), "the pump returned before it was cancelled"
    fired = time.monotonic()
    fire()
    result = worker.join(CANCEL_DEADLINE)
    assert time.monotonic() - fired < CANCEL_DEADLINE
    return result


@pytest.mark.parametrize(("pump", "nonblocking"), CANCEL_CASES)
def test_pump_cancel_while_waiting_for_input(pump: _Pump, *, nonblocking: bool) -> None:
    """The upstream write end stays open (as if a grandchild held it): the
    pump waits for input until a byte on the cancel pipe stops it."""
    head = os.urandom(10_000)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    cancel_r, cancel_w = os.pipe()
    try:
        os.write(in_w, head)
        if nonblocking:
            os.set_blocking(in_r, False)
            os.set_blocking(out_w, False)
        worker = _Worker(lambda: pump(in_r, out_w, cancel_r))
        moved = _cancel_and_join(worker, lambda: os.write(cancel_w, b"x"))
        assert moved == len(head)
        assert _drain_now(out_r) == head
        assert os.read(cancel_r, 10) == b"x"  # not consumed by the pump
        os.fstat(in_r)  # all still open
        os.fstat(out_w)
    finally:
        for fd in (in_r, in_w, out_r, out_w, cancel_r, cancel_w):
            os.close(fd)


@pytest.mark.parametrize(("pump", "nonblocking"), CANCEL_CASES)
def test_pump_cancel_while_waiting_for_output(pump: _Pump, *, nonblocking: bool) -> None:
    """Nobody reads the output pipe, which starts partly full: the pump fills
    it, waits for room, and returns the exact count once cancelled."""
    payload = os.urandom(MIB)
    prefix = os.urandom(1000)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    cancel_r, cancel_w = os.pipe()
    os.write(out_w, prefix)
    if nonblocking:
        os.set_blocking(in_r, False)
        os.set_blocking(out_w, False)
    producer = _Worker(lambda: _write_then_close(in_w, payload, chunk=65536))
    try:
        worker = _Worker(lambda: pump(in_r, out_w, cancel_r))
        moved = _cancel_and_join(worker, lambda: os.write(cancel_w, b"x"))
        assert isinstance(moved, int)
        received = _drain_now(out_r)
        assert received[: len(prefix)] == prefix
        assert 0 < moved < len(payload)
        assert received[len(prefix) :] == payload[:moved]
        assert os.read(cancel_r, 10) == b"x"
    finally:
        for fd in (in_r, out_r, out_w, cancel_r, cancel_w):
            os.close(fd)  # closing in_r ends the producer with EPIPE
    sent = producer.join()
    assert isinstance(sent, int)
    assert sent < len(payload)


@pytest.mark.parametrize(("pump", "nonblocking"), CANCEL_CASES)
def test_pump_cancel_by_closing_cancel_write_end(pump: _Pump, *, nonblocking: bool) -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    cancel_r, cancel_w = os.pipe()
    try:
        if nonblocking:
            os.set_blocking(in_r, False)
        worker = _Worker(lambda: pump(in_r, out_w, cancel_r))
        assert _cancel_and_join(worker, lambda: os.close(cancel_w)) == 0
        os.fstat(cancel_r)  # still open: the pump never closes it
    finally:
        for fd in (in_r, in_w, out_r, out_w, cancel_r):
            os.close(fd)


@pytest.mark.parametrize("pump", [_native_pump, _stand_in_pump], ids=["native", "stand-in"])
def test_pump_already_cancelled_reads_nothing(pump: _Pump) -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    cancel_r, cancel_w = os.pipe()
    try:
        os.write(in_w, b"left alone")
        os.close(in_w)
        os.write(cancel_w, b"x")
        assert pump(in_r, out_w, cancel_r) == 0
        assert _drain_now(out_r) == b""
        assert os.read(in_r, 100) == b"left alone"
        assert os.read(cancel_r, 10) == b"x"
    finally:
        for fd in (in_r, out_r, out_w, cancel_r, cancel_w):
            os.close(fd)


@pytest.mark.parametrize("nonblocking", [False, True])
def test_pump_idle_cancel_fd_copies_everything(*, nonblocking: bool) -> None:
    payload = os.urandom(3 * MIB + 5)
    cancel_r, cancel_w = os.pipe()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    if nonblocking:
        os.set_blocking(in_r, False)
        os.set_blocking(out_w, False)
    producer = _Worker(lambda: _write_then_close(in_w, payload, chunk=7919))
    consumer = _Worker(lambda: _read_then_close(out_r))
    try:
        moved = native.rust_pump_stream(
            reader_fd=in_r, writer_fd=out_w, buffer_size=65536, cancel_fd=cancel_r
        )
    finally:
        for fd in (in_r, out_w, cancel_r, cancel_w):
            os.close(fd)
    assert producer.join() == len(payload)
    assert moved == len(payload)
    assert consumer.join() == payload


def test_pump_signature_has_cancel_fd() -> None:
    assert compiled.rust_pump_stream.__text_signature__ == (
        "(reader_fd, writer_fd, buffer_size=65536, cancel_fd=-1)"
    )


@pytest.mark.parametrize("cancel_fd", [-2, -100, 2**40])
def test_pump_rejects_bad_cancel_fd(cancel_fd: int) -> None:
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(
            ValueError, match=r"^cancel_fd must be -1 \(no cancellation\) or a non-negative"
        ) as excinfo:
            native.rust_pump_stream(read_fd, write_fd, cancel_fd=cancel_fd)
        assert str(excinfo.value).endswith(f"got {cancel_fd}")
        os.fstat(read_fd)
        os.fstat(write_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_stand_in_rejects_bad_cancel_fd_like_native() -> None:
    with pytest.raises(ValueError, match=r"^cancel_fd must be -1 \(no cancellation\)"):
        python_stand_in_pump(0, 1, cancel_fd=-2)


def test_pump_closed_cancel_fd_is_ebadf() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        with pytest.raises(OSError, match=r"Bad file descriptor") as excinfo:
            native.rust_pump_stream(in_r, out_w, cancel_fd=_closed_fd())
        assert excinfo.value.errno == errno.EBADF
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)
