"""The pathway at any scale: no hop ever waits for a thread (issue 9, item 1).

Each test runs real pipelines, byte-exact, on every pathway: the Python
pump, the Rust pathway with the pure-Python stand-in for the extension
(always), and the Rust pathway with the compiled extension (skipped without
it, a failure in CI's with-extension run).

A Rust hop blocks a thread for as long as its bytes flow. If hops borrowed
threads from a pool (the event loop's default executor has
``min(32, cpus + 4)`` of them), a pipeline with more hops than the pool has
threads, or one started while the caller's own blocking work fills the pool,
would stall. The bounds below are hang bounds, far above the expected time
(about a second on a loaded 2-core machine); the tests assert on completion
and bytes, never on speed.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import hashlib
import os
import pathlib
import sys
import termios
import threading
import time

import pytest

from cuprum import CAT, Pipeline, PipelineResult, StreamBackend, sh
from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, _check_rust_available
from cuprum._hop_threads import HOP_THREAD_NAME
from cuprum._pipeline_streams import (
    HopPump,
    HopRecord,
    _pump_stream_dispatch,
    _write_all,
    observe_hops,
)
from cuprum._pipes import PIPE_CAPACITY
from cuprum.unittests.test_streams import open_reader, open_writer
from tests.helpers.native import StandInNative
from tests.helpers.pathway import HASH_CATALOGUE, SHA256SUM
from tests.helpers.processes import PYTHON, TEST_CATALOGUE

SCALE_TIMEOUT = 8.0
"""Hang bound per run, in seconds: expected ~1 s; below the kit's 10 s
per-test limit so that a stalled run fails with its own clear error."""

DEEP_STAGES = 64
DEEP_PAYLOAD_BYTES = 1024 * 1024 + 17

CONCURRENT_PIPELINES = 32
CONCURRENT_STAGES = 6
CONCURRENT_PAYLOAD_BYTES = 256 * 1024 + 17

RENDEZVOUS_SINK = """
import hashlib, os, sys
expected, rendezvous, parties = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
digest, total = hashlib.sha256(), 0
while chunk := sys.stdin.buffer.read1(1 << 20):
    digest.update(chunk)
    total += len(chunk)
    if total == expected:
        open(os.path.join(rendezvous, f"seen-{os.getpid()}"), "w").close()
        seen = [n for n in os.listdir(rendezvous) if n.startswith("seen-")]
        if len(seen) == parties:
            try:
                os.close(os.open(os.path.join(rendezvous, "released"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            for name in os.listdir(rendezvous):
                if name.startswith("hold-"):
                    os.close(os.open(os.path.join(rendezvous, name), os.O_WRONLY))
print(digest.hexdigest(), total)
"""
"""The last stage of a rendezvous pipeline: hashes what it receives, and once
every party's sink has received its whole payload, releases every first
stage (``cat payload hold-N`` waits on its FIFO ``hold-N`` until then)."""
BUSY_EXECUTOR_STAGES = 4
BUSY_EXECUTOR_PAYLOAD_BYTES = 2 * 1024 * 1024 + 17
BUSY_EXECUTOR_BLOCKERS = 64
"""More blocking jobs than the default executor has threads on any machine."""


@pytest.fixture(params=["python", "rust-stand-in", "rust-compiled"])
def pathway(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> StreamBackend:
    """Select each pathway in turn; return the backend the hops must report."""
    if request.param == "python":
        monkeypatch.setenv(BACKEND_ENV_VAR, "python")
        return StreamBackend.PYTHON
    if request.param == "rust-compiled":
        request.getfixturevalue("real_native")
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
    else:
        stand_in: StandInNative = request.getfixturevalue("stand_in_native")
        del stand_in
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    return StreamBackend.RUST


def _payload(directory: pathlib.Path, size: int) -> tuple[pathlib.Path, str]:
    path = directory / "payload.bin"
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _hash_pipeline(payload: pathlib.Path, stages: int) -> Pipeline:
    """``cat payload | cat ... | sha256sum``: ``stages`` stages, ``stages - 1`` hops."""
    cat = sh.make(CAT, catalogue=HASH_CATALOGUE)
    commands = (cat(payload), *(cat() for _ in range(stages - 2)))
    return Pipeline(commands) | sh.make(SHA256SUM, catalogue=HASH_CATALOGUE)()


def _rendezvous_pipelines(
    payload: pathlib.Path, rendezvous: pathlib.Path, stages: int, parties: int
) -> list[Pipeline]:
    """``parties`` pipelines of ``stages`` stages that must all flow at once.

    Each is ``cat payload hold-N | cat ... | python RENDEZVOUS_SINK``. No
    first stage exits before every sink has received its whole payload, so
    every hop of every pipeline must be moving bytes at the same time: a hop
    that waits for a thread which only a finished hop would free stalls
    them all, whatever the pipes can buffer.
    """
    rendezvous.mkdir()
    cat = sh.make(CAT, catalogue=TEST_CATALOGUE)
    sink = sh.make(PYTHON, catalogue=TEST_CATALOGUE)
    size = str(payload.stat().st_size)
    pipelines = []
    for party in range(parties):
        hold = rendezvous / f"hold-{party}"
        os.mkfifo(hold)
        commands = (cat(payload, hold), *(cat() for _ in range(stages - 2)))
        last = sink("-I", "-S", "-c", RENDEZVOUS_SINK, size, rendezvous, str(parties))
        pipelines.append(Pipeline(commands) | last)
    return pipelines


def _assert_rendezvous_exact(result: PipelineResult, stages: int, digest: str, size: int) -> None:
    assert [stage.exit_code for stage in result.stages] == [0] * stages
    assert result.stdout.split() == [digest, str(size)]


def _assert_byte_exact(result: PipelineResult, stages: int, digest: str) -> None:
    assert [stage.exit_code for stage in result.stages] == [0] * stages
    assert result.stdout.split()[0] == digest


def _assert_hops(hops: list[HopRecord], count: int, backend: StreamBackend, size: int) -> None:
    pump = HopPump.RUST if backend is StreamBackend.RUST else HopPump.PYTHON
    assert len(hops) == count
    assert {(hop.backend, hop.pump, hop.forced_fallback) for hop in hops} == {
        (backend, pump, False)
    }
    assert {hop.bytes_moved for hop in hops} == {size}


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _hop_threads_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == HOP_THREAD_NAME]


def _wait_for_hop_threads_to_end(bound: float = 10.0) -> list[threading.Thread]:
    """Return the hop threads still alive after ``bound`` seconds (normally none)."""
    deadline = time.monotonic() + bound
    while (alive := _hop_threads_alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def test_a_64_stage_pipeline_is_byte_exact(pathway: StreamBackend, tmp_path: pathlib.Path) -> None:
    payload, digest = _payload(tmp_path, DEEP_PAYLOAD_BYTES)
    (pipeline,) = _rendezvous_pipelines(payload, tmp_path / "rendezvous", DEEP_STAGES, 1)
    with observe_hops() as hops:
        result = pipeline.run_sync(timeout=SCALE_TIMEOUT)
    _assert_rendezvous_exact(result, DEEP_STAGES, digest, DEEP_PAYLOAD_BYTES)
    _assert_hops(hops, DEEP_STAGES - 1, pathway, DEEP_PAYLOAD_BYTES)
    assert _wait_for_hop_threads_to_end() == []


def test_32_concurrent_6_stage_pipelines_are_byte_exact(
    pathway: StreamBackend, tmp_path: pathlib.Path
) -> None:
    payload, digest = _payload(tmp_path, CONCURRENT_PAYLOAD_BYTES)
    pipelines = _rendezvous_pipelines(
        payload, tmp_path / "rendezvous", CONCURRENT_STAGES, CONCURRENT_PIPELINES
    )

    async def run_all() -> list[PipelineResult]:
        return await asyncio.gather(*(p.run(timeout=SCALE_TIMEOUT) for p in pipelines))

    with observe_hops() as hops:
        results = asyncio.run(run_all())
    assert len(results) == CONCURRENT_PIPELINES
    for result in results:
        _assert_rendezvous_exact(result, CONCURRENT_STAGES, digest, CONCURRENT_PAYLOAD_BYTES)
    _assert_hops(
        hops,
        CONCURRENT_PIPELINES * (CONCURRENT_STAGES - 1),
        pathway,
        CONCURRENT_PAYLOAD_BYTES,
    )
    assert _wait_for_hop_threads_to_end() == []


def test_a_pipeline_completes_while_the_default_executor_is_full(
    pathway: StreamBackend, tmp_path: pathlib.Path
) -> None:
    """The caller's blocking work holds every default-executor thread."""
    payload, digest = _payload(tmp_path, BUSY_EXECUTOR_PAYLOAD_BYTES)
    release = threading.Event()

    def probe() -> None:
        """Runs only once a default-executor thread frees up."""

    async def run_while_busy() -> tuple[PipelineResult, bool]:
        loop = asyncio.get_running_loop()
        blockers = [loop.run_in_executor(None, release.wait) for _ in range(BUSY_EXECUTOR_BLOCKERS)]
        queued_behind_blockers = loop.run_in_executor(None, probe)
        try:
            result = await _hash_pipeline(payload, BUSY_EXECUTOR_STAGES).run(timeout=SCALE_TIMEOUT)
            # Still queued: the executor stayed full while the pipeline ran.
            executor_was_full = not queued_behind_blockers.done()
        finally:
            release.set()
            await asyncio.gather(*blockers, queued_behind_blockers)
        return result, executor_was_full

    with observe_hops() as hops:
        result, executor_was_full = asyncio.run(run_while_busy())
    assert executor_was_full
    _assert_byte_exact(result, BUSY_EXECUTOR_STAGES, digest)
    _assert_hops(hops, BUSY_EXECUTOR_STAGES - 1, pathway, BUSY_EXECUTOR_PAYLOAD_BYTES)


def test_the_flush_waits_on_a_descriptor_above_fd_setsize() -> None:
    """Many concurrent pipelines push hop descriptors past select's 1024."""
    read_fd, write_fd = os.pipe()
    high_fd = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 1100)
    os.close(write_fd)
    os.set_blocking(high_fd, False)
    capacity = fcntl.fcntl(high_fd, fcntl.F_SETPIPE_SZ, 4096)
    data = os.urandom(1024 * 1024 + 17)  # far more than the pipe holds
    received = bytearray()

    def drain() -> None:
        # Only once the pipe is full: the flush must then meet EAGAIN and wait.
        queued = array.array("i", [0])
        while queued[0] < capacity:
            fcntl.ioctl(read_fd, termios.FIONREAD, queued)
            time.sleep(0.01)
        while chunk := os.read(read_fd, 65536):
            received.extend(chunk)

    drainer = threading.Thread(target=drain)
    drainer.start()
    try:
        _write_all(high_fd, data)
    finally:
        os.close(high_fd)
        drainer.join(timeout=SCALE_TIMEOUT)
        os.close(read_fd)
    assert high_fd >= 1100
    assert bytes(received) == data


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


def test_a_cancelled_rust_hop_ends_after_its_pump_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing of a cancelled hop (thread, descriptors) outlives its task."""
    native = _SlowToStop()
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, native)
    _check_rust_available.cache_clear()

    async def scenario() -> tuple[bool, bool]:
        up_read, up_write = os.pipe()
        down_read, down_write = os.pipe()
        reader = await open_reader(up_read)
        writer = await open_writer(down_write)
        baseline = _open_fds()
        hop = asyncio.create_task(_pump_stream_dispatch(reader, writer, backend=StreamBackend.RUST))
        await asyncio.sleep(0.3)  # the pump waits on an empty pipe held open
        assert _open_fds() > baseline  # it holds its duplicated descriptors
        hop.cancel()
        # Bounded: a hop whose pump is never woken must fail here, not hang
        # (the upstream is held open, so such a pump never returns).
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(hop, timeout=5.0)
        thread_done, fds_closed = native.returned.is_set(), _open_fds() <= baseline
        os.close(up_write)
        os.close(down_read)
        return thread_done, fds_closed

    assert asyncio.run(scenario()) == (True, True)
    assert native.calls == 1


class _RecordingPump(StandInNative):
    """The stand-in pump, noting the chunk size and downstream pipe it got."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def rust_pump_stream(
        self, reader_fd: int, writer_fd: int, buffer_size: int = 65536, cancel_fd: int = -1
    ) -> int:
        self.seen.append((buffer_size, fcntl.fcntl(writer_fd, fcntl.F_GETPIPE_SZ)))
        return super().rust_pump_stream(reader_fd, writer_fd, buffer_size, cancel_fd)


def test_a_rust_hop_moves_up_to_a_whole_pipe_per_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """Fewer wake-ups: the downstream pipe is enlarged and the chunk matches."""
    native = _RecordingPump()
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, native)
    _check_rust_available.cache_clear()
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    payload, digest = _payload(tmp_path, CONCURRENT_PAYLOAD_BYTES)
    result = _hash_pipeline(payload, 3).run_sync(timeout=SCALE_TIMEOUT)
    _assert_byte_exact(result, 3, digest)
    limit = int(pathlib.Path("/proc/sys/fs/pipe-max-size").read_text())
    assert native.seen == [(PIPE_CAPACITY, min(PIPE_CAPACITY, limit))] * 2
