"""A spliced hop with a blocked side (``cuprum._splice_pump``), on real pipes.

A spliced hop must sleep on the side that blocks it and wake when that side
is ready: never end early, never spin. These tests drive the pump's pieces
directly, each on its own event loop in a worker thread (:func:`bounded`),
so a pump that spins without ever awaiting fails its test after
:data:`SPIN_BOUND` seconds instead of hanging it; and they count turns of
the event loop, not seconds, to tell waiting from spinning.

They are the mutation kit's first line against ``_splice_pump.py``: the kit
runs a mutant's covering tests fastest first, ties under 50 ms by node id,
and these come before the pipeline tests that such a mutant would hang
(``test_hop_ends_dispatch.py``, ``test_pathway_parity.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import threading
import typing as typ
from collections.abc import Callable, Coroutine

import pytest

from cuprum import _splice_pump
from cuprum._pipes import enlarge_pipe
from cuprum._splice_pump import SpliceOutcome, _ready, _write_all, _writer_is_full, splice_hop
from cuprum.unittests.test_streams import open_reader

pytestmark = pytest.mark.skipif(not hasattr(os, "splice"), reason="os.splice is Linux-only")

T = typ.TypeVar("T")

SPIN_BOUND = 3.0
"""How long a scenario of a few milliseconds may take (on a loaded machine,
far more than it needs), and well under the mutation kit's per-test limit."""

TURNS = 50
"""Turns of the event loop given to a waiting pump: a correct one stays
asleep through all of them; a spinning one wakes on each."""


def bounded(scenario: Callable[[], Coroutine[typ.Any, typ.Any, T]]) -> T:
    """Run ``scenario`` on a new event loop in a daemon thread, for at most SPIN_BOUND s.

    No asyncio timeout can stop a coroutine that loops without awaiting; a
    thread can at least be abandoned, so the test fails instead of hanging.
    """
    outcome: dict[str, typ.Any] = {}

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(scenario())
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(SPIN_BOUND)
    assert not worker.is_alive(), f"still running after {SPIN_BOUND} s: a pump that never waits?"
    if "error" in outcome:
        raise outcome["error"]
    return typ.cast(T, outcome["result"])


async def turns(count: int = TURNS) -> None:
    """Let the event loop run ``count`` times (no time passes by the clock)."""
    for _ in range(count):
        await asyncio.sleep(0)


@contextlib.contextmanager
def pipe() -> typ.Iterator[tuple[int, int]]:
    """A pipe whose ends are closed on exit unless the test closed them."""
    read_fd, write_fd = os.pipe()
    try:
        yield read_fd, write_fd
    finally:
        for fd in (read_fd, write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def splice_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pump's ``splice`` calls (each really splices).

    ``_SPLICE`` is the narrow seam: how often the pump asks the kernel is the
    only way to tell a pump that waits from one that spins, short of timing.
    """
    calls: list[int] = []
    real = os.splice

    def splice(src: int, dst: int, count: int, *, flags: int) -> int:
        calls.append(count)
        return real(src, dst, count, flags=flags)

    monkeypatch.setattr(_splice_pump, "_SPLICE", splice)
    return calls


async def read_at_most(stage: asyncio.StreamReader, size: int) -> bytes:
    """Read ``size`` bytes, or fewer at end of file (a failing test asserts on them)."""
    data = b""
    while len(data) < size and (chunk := await stage.read(size - len(data))):
        data += chunk
    return data


def fill(fd: int) -> int:
    """Fill the pipe behind the non-blocking write end ``fd``; return bytes written."""
    written = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            written += os.write(fd, bytes(65536))
    return written


# --- writing what asyncio had buffered ---------------------------------------------


def test_write_all_delivers_every_byte_and_counts_them() -> None:
    with pipe() as (read_fd, write_fd):
        os.set_blocking(write_fd, False)
        assert bounded(lambda: _write_all(write_fd, b"buffered")) == SpliceOutcome(8)
        assert bounded(lambda: _write_all(write_fd, b"")) == SpliceOutcome(0)
        os.close(write_fd)
        assert os.read(read_fd, 64) == b"buffered"


def test_write_all_into_a_broken_pipe_reports_the_downstream_gone() -> None:
    with pipe() as (read_fd, write_fd):
        os.set_blocking(write_fd, False)
        os.close(read_fd)
        outcome = bounded(lambda: _write_all(write_fd, b"nobody reads"))
        assert outcome == SpliceOutcome(0, downstream_gone=True)


def test_write_all_sleeps_while_the_pipe_is_full_and_ends_once_drained() -> None:
    data = os.urandom(200_000)

    async def scenario() -> tuple[bool, SpliceOutcome, bytes]:
        read_fd, write_fd = os.pipe()
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 4096)
        os.set_blocking(write_fd, False)
        writing = asyncio.create_task(_write_all(write_fd, data))
        await turns()
        asleep = not writing.done()
        # The drain runs on the same loop: a writer that never awaited
        # would starve it.
        stage = await open_reader(read_fd)
        drained = asyncio.create_task(stage.read())
        try:
            outcome = await asyncio.wait_for(writing, SPIN_BOUND)
        finally:
            os.close(write_fd)
        return asleep, outcome, await asyncio.wait_for(drained, SPIN_BOUND)

    assert bounded(scenario) == (True, SpliceOutcome(len(data)), data)


# --- splicing until the upstream's end --------------------------------------------


def test_a_one_byte_splice_is_counted_and_the_hop_goes_on() -> None:
    with pipe() as (in_read, in_write), pipe() as (out_read, out_write):
        os.write(in_write, b"1")
        os.close(in_write)
        assert bounded(lambda: splice_hop(b"", (in_read, out_write))) == SpliceOutcome(1)
        os.close(out_write)
        assert os.read(out_read, 16) == b"1"


def test_an_empty_upstream_is_waited_for_until_its_bytes_and_eof(
    splice_calls: list[int],
) -> None:
    """EAGAIN from an empty upstream means "later", not end of file."""
    first = os.urandom(5000)
    rest = os.urandom(50_000)  # with the first, within one pipe buffer (written here)

    async def scenario() -> tuple[int, bool, SpliceOutcome, bytes]:
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        stage = await open_reader(out_read)
        pump = asyncio.create_task(splice_hop(b"", (in_read, out_write)))
        try:
            await turns()
            asleep_calls = len(splice_calls)
            os.write(in_write, first)
            arrived = asyncio.create_task(read_at_most(stage, len(first)))
            await asyncio.wait(
                {pump, arrived}, timeout=SPIN_BOUND, return_when=asyncio.FIRST_COMPLETED
            )
            still_pumping = not pump.done()
            os.write(in_write, rest)
            os.close(in_write)
            outcome = await asyncio.wait_for(pump, SPIN_BOUND)
        finally:
            os.close(in_read)
            os.close(out_write)
        received = await asyncio.wait_for(arrived, SPIN_BOUND)
        return asleep_calls, still_pumping, outcome, received + await stage.read()

    asleep_calls, still_pumping, outcome, received = bounded(scenario)
    assert asleep_calls == 1  # one EAGAIN, then asleep on the upstream
    assert still_pumping  # the first bytes were not taken for the whole stream
    assert outcome == SpliceOutcome(len(first) + len(rest))
    assert received == first + rest


def test_a_full_downstream_is_waited_for_not_the_upstream(splice_calls: list[int]) -> None:
    data = os.urandom(60_000)  # within one pipe buffer: written here, at once

    async def scenario() -> tuple[int, bool, SpliceOutcome, int]:
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        enlarge_pipe(out_write)  # as the pump will, so it stays full
        os.set_blocking(out_write, False)
        held = fill(out_write)
        os.write(in_write, data)
        os.close(in_write)
        pump = asyncio.create_task(splice_hop(b"", (in_read, out_write)))
        try:
            await turns()
            asleep_calls, waiting = len(splice_calls), not pump.done()
            stage = await open_reader(out_read)
            drained = asyncio.create_task(stage.read())
            outcome = await asyncio.wait_for(pump, SPIN_BOUND)
        finally:
            os.close(in_read)
            os.close(out_write)
        return (
            asleep_calls,
            waiting,
            outcome,
            len(await asyncio.wait_for(drained, SPIN_BOUND)) - held,
        )

    # The upstream is readable all along: a pump asleep on it would spin.
    assert bounded(scenario) == (1, True, SpliceOutcome(len(data)), len(data))


def test_a_downstream_gone_mid_splice_is_reported() -> None:
    with pipe() as (in_read, in_write), pipe() as (out_read, out_write):
        os.write(in_write, b"for nobody")
        os.close(out_read)
        outcome = bounded(lambda: splice_hop(b"", (in_read, out_write)))
        assert outcome == SpliceOutcome(0, downstream_gone=True)


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOSYS])
def test_a_splice_refused_at_once_hands_the_whole_hop_back(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # As _splice_then_fail in test_splice_pump.py: the kernel refuses only in
    # set-ups a test cannot create, so ``_SPLICE`` is the seam.
    def refuse(src: int, dst: int, count: int, *, flags: int) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_splice_pump, "_SPLICE", refuse)
    with pipe() as (in_read, in_write), pipe() as (out_read, out_write):
        os.write(in_write, b"left for the copy loop")
        outcome = bounded(lambda: splice_hop(b"head", (in_read, out_write)))
        assert outcome == SpliceOutcome(4, refused=True)
        assert os.read(out_read, 64) == b"head"
        assert os.read(in_read, 64) == b"left for the copy loop"


def test_another_splice_error_at_once_fails_the_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(src: int, dst: int, count: int, *, flags: int) -> int:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(_splice_pump, "_SPLICE", fail)
    with pipe() as (in_read, in_write), pipe() as (_out_read, out_write):
        os.write(in_write, b"x")
        with pytest.raises(OSError, match="Input/output error") as caught:
            bounded(lambda: splice_hop(b"", (in_read, out_write)))
        assert caught.value.errno == errno.EIO


# --- the waits themselves -----------------------------------------------------------


def test_a_wait_ends_on_readiness_and_leaves_no_callback_on_the_loop() -> None:
    # A callback left registered would fire on a descriptor the hop has
    # closed (and the number may be reused by then).
    async def scenario() -> tuple[bool, bool, bool, bool]:
        loop = asyncio.get_running_loop()
        with pipe() as (read_fd, write_fd):
            os.write(write_fd, b"x")
            reading = asyncio.create_task(_ready(read_fd, for_write=False))
            writing = asyncio.create_task(_ready(write_fd, for_write=True))
            await turns()
            return (
                reading.done(),
                writing.done(),
                loop.remove_reader(read_fd),
                loop.remove_writer(write_fd),
            )

    assert bounded(scenario) == (True, True, False, False)


@pytest.mark.parametrize("for_write", [False, True])
def test_a_wait_tolerates_readiness_reported_again_or_after_cancelling(
    for_write: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop may call the wake-up again before the waiter resumes, or after
    it was cancelled; neither may raise inside the event loop."""

    async def scenario() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        wakes: list[Callable[[], None]] = []
        name = "add_writer" if for_write else "add_reader"
        register = getattr(loop, name)

        # The loop's registration call is the seam: it hands over the wake-up.
        def recording(fd: int, callback: Callable[[], None]) -> None:
            wakes.append(callback)
            register(fd, callback)

        monkeypatch.setattr(loop, name, recording)
        with pipe() as (read_fd, write_fd):
            if for_write:
                os.set_blocking(write_fd, False)
                fill(write_fd)  # no room: the write end is not ready
            fd = write_fd if for_write else read_fd  # an empty pipe's read end is not
            first = asyncio.create_task(_ready(fd, for_write=for_write))
            await turns(3)
            wakes[0]()
            wakes[0]()  # reported twice before the waiter resumed
            await asyncio.wait_for(first, SPIN_BOUND)
            second = asyncio.create_task(_ready(fd, for_write=for_write))
            await turns(3)
            second.cancel()
            wakes[1]()  # reported after the waiter was cancelled
            with contextlib.suppress(asyncio.CancelledError):
                await second
            return first.done(), second.cancelled()

    assert bounded(scenario) == (True, True)


def test_writer_is_full_only_when_the_pipe_has_no_room() -> None:
    def check() -> tuple[bool, bool, bool]:
        with pipe() as (read_fd, write_fd):
            os.set_blocking(write_fd, False)
            empty = _writer_is_full(write_fd)
            fill(write_fd)
            full = _writer_is_full(write_fd)
            os.read(read_fd, 1 << 20)
            return empty, full, _writer_is_full(write_fd)

    async def scenario() -> tuple[bool, bool, bool]:
        return check()

    assert bounded(scenario) == (False, True, False)
