"""The dedicated hop threads (``cuprum._hop_threads``), on real threads.

Every await of a hop is bounded by :data:`BOUND`, so that a fault which loses
a thread's outcome or leaves a thread blocked fails its test with an
assertion (a timeout) well inside the kit's per-test limit, never by hanging.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import pathlib
import subprocess
import sys
import threading
import typing as typ

import pytest

import cuprum
from cuprum._hop_threads import HOP_THREAD_NAME, run_on_hop_thread

BOUND = 5.0
"""Seconds any one hop may take here (they take milliseconds): generous on a
loaded machine, and below the kit's 10 s per-test limit."""

_T = typ.TypeVar("_T")

_caller_value: contextvars.ContextVar[str] = contextvars.ContextVar("_caller_value")


async def _hop(
    func: typ.Callable[..., _T], *args: object, wake: typ.Callable[[], object] | None = None
) -> _T:
    return await asyncio.wait_for(run_on_hop_thread(func, *args, wake=wake), timeout=BOUND)


def _thread_name() -> str:
    return threading.current_thread().name


def test_runs_on_a_thread_named_cuprum_hop() -> None:
    async def main() -> str:
        return await _hop(_thread_name)

    assert asyncio.run(main()) == HOP_THREAD_NAME == "cuprum-hop"


def test_hop_threads_are_daemons() -> None:
    async def main() -> bool:
        return await _hop(lambda: threading.current_thread().daemon)

    assert asyncio.run(main()) is True


def test_a_blocked_hop_does_not_keep_the_interpreter_alive_at_exit() -> None:
    """A hop whose peer never closes must not stop the program from exiting."""
    # The hop reads a pipe whose write end the process itself holds, so the
    # read never returns; the program gives up on it and must still exit.
    child = """
import asyncio, os
from cuprum._hop_threads import run_on_hop_thread

read_fd, write_fd = os.pipe()

async def main():
    try:
        await asyncio.wait_for(run_on_hop_thread(os.read, read_fd, 1), timeout=0.05)
    except TimeoutError:
        print("gave up", flush=True)

asyncio.run(main())
"""
    # The child imports the cuprum this test imported (the kit's mutated copy).
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(cuprum.__file__).parents[1])}
    with subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, env=env
    ) as process:
        try:
            out, _ = process.communicate(timeout=BOUND * 2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("the interpreter waited at exit for a blocked hop thread")
    assert (process.returncode, out) == (0, b"gave up\n")


def test_returns_the_result_and_passes_arguments() -> None:
    async def main() -> int:
        return await _hop(pow, 3, 4)

    assert asyncio.run(main()) == 81


def test_reraises_the_threads_exception() -> None:
    def fail() -> None:
        msg = "boom"
        raise OSError(msg)

    async def main() -> None:
        await _hop(fail)

    with pytest.raises(OSError, match=r"^boom$"):
        asyncio.run(main())


def test_runs_in_a_copy_of_the_callers_context() -> None:
    def read_then_write() -> str:
        seen = _caller_value.get("unset")
        _caller_value.set("set by the hop")
        return seen

    async def main() -> tuple[str, str]:
        _caller_value.set("set by the caller")
        seen = await _hop(read_then_write)
        # A copy: what the hop sets stays in the hop.
        return seen, _caller_value.get()

    assert asyncio.run(main()) == ("set by the caller", "set by the caller")


def test_completes_while_the_default_executor_is_full() -> None:
    """Blocking work fills every default-executor thread; the hop still runs."""
    release = threading.Event()

    async def main() -> str:
        loop = asyncio.get_running_loop()
        # More blockers than the default executor has threads on any machine.
        blockers = [loop.run_in_executor(None, release.wait) for _ in range(40)]
        try:
            return await _hop(_thread_name)
        finally:
            release.set()
            await asyncio.gather(*blockers)

    assert asyncio.run(main()) == HOP_THREAD_NAME


def test_many_concurrent_hops_each_get_a_thread() -> None:
    """64 hops that all wait for each other can only finish if all run at once."""
    count = 64
    barrier = threading.Barrier(count, timeout=BOUND)

    async def main() -> list[int]:
        hops = (run_on_hop_thread(barrier.wait) for _ in range(count))
        return await asyncio.wait_for(asyncio.gather(*hops), timeout=BOUND * 1.5)

    assert sorted(asyncio.run(main())) == list(range(count))


def _recording_loop_errors() -> list[dict[str, object]]:
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, ctx: errors.append(ctx))
    return errors


def test_a_late_outcome_meets_the_cancelled_await_quietly() -> None:
    """Without ``wake``, a cancelled hop's thread finishes later; its outcome is dropped."""
    started = threading.Event()
    release = threading.Event()
    threads: list[threading.Thread] = []

    def until_released() -> str:
        threads.append(threading.current_thread())
        started.set()
        release.wait(timeout=BOUND)
        return "late"

    async def main() -> list[dict[str, object]]:
        errors = _recording_loop_errors()
        task = asyncio.ensure_future(run_on_hop_thread(until_released))
        assert await asyncio.to_thread(started.wait, BOUND)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=BOUND)
        release.set()
        # Once the thread has ended, it has queued its outcome on the loop;
        # this await resumes only after that callback ran (callbacks run in
        # order), so a late outcome that upset the loop would be recorded.
        await asyncio.to_thread(_join_all, threads)
        return errors

    assert asyncio.run(main()) == []
    assert [thread.is_alive() for thread in threads] == [False]


def _join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=BOUND)


def test_a_thread_outliving_its_loop_ends_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop closes while a cancelled hop still works; the thread's end raises nothing."""
    # threading.excepthook is the only place an exception escaping a thread
    # surfaces; recording it is how the test sees one.
    thread_errors: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    started = threading.Event()
    release = threading.Event()
    threads: list[threading.Thread] = []

    def until_released() -> str:
        threads.append(threading.current_thread())
        started.set()
        release.wait(timeout=BOUND)
        return "after the loop"

    async def main() -> None:
        task = asyncio.ensure_future(run_on_hop_thread(until_released))
        assert await asyncio.to_thread(started.wait, BOUND)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    release.set()
    _join_all(threads)
    assert [thread.is_alive() for thread in threads] == [False]
    assert thread_errors == []


def test_cancelling_with_wake_waits_for_the_thread_to_end() -> None:
    stop = threading.Event()
    proceed = threading.Event()
    ended = threading.Event()

    def until_woken() -> str:
        stop.wait(timeout=BOUND)
        proceed.wait(timeout=BOUND)  # unwinding: the test decides how long
        ended.set()
        return "woken"

    async def main() -> tuple[bool, bool, bool]:
        task = asyncio.ensure_future(run_on_hop_thread(until_woken, wake=stop.set))
        await asyncio.sleep(0)
        task.cancel()
        # The thread is woken but cannot end yet, so neither can the task.
        await asyncio.wait({task}, timeout=0.2)
        done_before_the_thread_ended = task.done()
        woken = await asyncio.to_thread(stop.wait, BOUND)
        proceed.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=BOUND)
        return woken, done_before_the_thread_ended, ended.is_set()

    try:
        assert asyncio.run(main()) == (True, False, True)
    finally:
        stop.set()
        proceed.set()


def test_a_woken_thread_that_fails_still_ends_in_cancellation() -> None:
    started = threading.Event()
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def fails_when_woken() -> None:
        threads.append(threading.current_thread())
        started.set()
        stop.wait(timeout=BOUND)
        msg = "interrupted"
        raise OSError(msg)

    async def main() -> list[dict[str, object]]:
        errors = _recording_loop_errors()
        task = asyncio.ensure_future(run_on_hop_thread(fails_when_woken, wake=stop.set))
        assert await asyncio.to_thread(started.wait, BOUND)
        task.cancel()
        # Once the woken thread has ended, its outcome has reached the loop
        # ahead of this await's own result (callbacks run in order), so the
        # task is done: a lost outcome fails here at once, not at a bound.
        await asyncio.to_thread(_join_all, threads)
        assert task.done(), "the thread ended but its outcome never reached the task"
        with pytest.raises(asyncio.CancelledError):
            await task
        return errors

    try:
        assert asyncio.run(main()) == []
        assert stop.is_set()
    finally:
        stop.set()


def test_wake_is_not_called_when_the_thread_finishes() -> None:
    woken: list[bool] = []

    async def main() -> int:
        return await _hop(pow, 2, 10, wake=lambda: woken.append(True))

    assert asyncio.run(main()) == 1024
    assert woken == []
