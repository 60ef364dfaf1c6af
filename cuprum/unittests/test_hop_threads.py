"""The dedicated hop threads never depend on the default executor."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cuprum._hop_threads import HOP_THREAD_NAME, run_on_hop_thread


def _thread_name() -> str:
    return threading.current_thread().name


def test_runs_on_a_named_thread_that_is_not_the_loops() -> None:
    async def main() -> str:
        return await run_on_hop_thread(_thread_name)

    assert asyncio.run(main()) == HOP_THREAD_NAME


def test_returns_the_result_and_passes_arguments() -> None:
    async def main() -> int:
        return await run_on_hop_thread(pow, 3, 4)

    assert asyncio.run(main()) == 81


def test_reraises_the_threads_exception() -> None:
    def fail() -> None:
        msg = "boom"
        raise OSError(msg)

    async def main() -> None:
        await run_on_hop_thread(fail)

    with pytest.raises(OSError, match="boom"):
        asyncio.run(main())


def test_completes_while_the_default_executor_is_full() -> None:
    """Blocking work fills every default-executor thread; the hop still runs."""
    release = threading.Event()

    async def main() -> str:
        loop = asyncio.get_running_loop()
        # More blockers than the default executor has threads on any machine.
        blockers = [loop.run_in_executor(None, release.wait) for _ in range(40)]
        try:
            return await asyncio.wait_for(run_on_hop_thread(_thread_name), timeout=30)
        finally:
            release.set()
            await asyncio.gather(*blockers)

    assert asyncio.run(main()) == HOP_THREAD_NAME


def test_many_concurrent_hops_each_get_a_thread() -> None:
    """64 hops that all wait for each other can only finish if all run at once."""
    count = 64
    barrier = threading.Barrier(count, timeout=60)

    async def main() -> list[int]:
        return await asyncio.gather(*(run_on_hop_thread(barrier.wait) for _ in range(count)))

    assert sorted(asyncio.run(main())) == list(range(count))


def test_cancelled_await_leaves_the_thread_to_finish_quietly() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    loop_errors: list[dict[str, object]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        task = asyncio.ensure_future(run_on_hop_thread(slow))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Outlive the thread so its late result meets a cancelled future.
        await asyncio.sleep(0.5)

    asyncio.run(main())
    assert finished.wait(timeout=30)
    assert loop_errors == []


def test_cancelling_with_wake_waits_for_the_thread_to_end() -> None:
    stop = threading.Event()
    ended = threading.Event()

    def until_woken() -> str:
        stop.wait(timeout=30)
        time.sleep(0.2)  # unwinding takes a while
        ended.set()
        return "woken"

    async def main() -> bool:
        task = asyncio.ensure_future(run_on_hop_thread(until_woken, wake=stop.set))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ended.is_set()

    assert asyncio.run(main()) is True


def test_a_woken_thread_that_fails_still_ends_in_cancellation() -> None:
    stop = threading.Event()

    def fails_when_woken() -> None:
        stop.wait(timeout=30)
        msg = "interrupted"
        raise OSError(msg)

    loop_errors: list[dict[str, object]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        task = asyncio.ensure_future(run_on_hop_thread(fails_when_woken, wake=stop.set))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert stop.is_set()
    assert loop_errors == []


def test_wake_is_not_called_when_the_thread_finishes() -> None:
    woken: list[bool] = []

    async def main() -> int:
        return await run_on_hop_thread(pow, 2, 10, wake=lambda: woken.append(True))

    assert asyncio.run(main()) == 1024
    assert woken == []
