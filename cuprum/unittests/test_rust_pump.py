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

native: typ.Any = pytest.importorskip(
    "cuprum._rust_backend_native",
    reason="needs the compiled native extension cuprum._rust_backend_native "
    "(build it with `make native`)",
)

JOIN_TIMEOUT = 60.0
WATCHDOG_SECONDS = 180
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

    def join(self) -> object:
        self._thread.join(JOIN_TIMEOUT)
        assert not self._thread.is_alive(), "helper thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


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
