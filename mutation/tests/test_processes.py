"""A signal reaches the kit's main thread however the kernel delivers it.

The kernel may hand SIGINT or SIGTERM to any thread of the kit (a shard's
or the generator's). CPython's C handler then only sets a flag, and the
handler that kills the children runs when the main thread next runs
Python code: a main thread blocked on a future or a child without a
timeout sat out a whole 44 s baseline (about one interrupt in eight with
eight workers). ``signal.pthread_kill`` aims the signal at a chosen
thread, so these tests make that delivery happen every time.
"""

from __future__ import annotations

import concurrent.futures
import pathlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from mutation.processes import interruptible, result_of, run_child

CHILD_SECONDS = 60
"""How long the child would run if the interrupt were missed."""
PROMPT_SECONDS = 10
"""The bound asserted: far under the child's minute, far over the
kit's poll, so a loaded machine cannot fail it."""


def _aimed_at(work: Callable[[], object]) -> tuple[Callable[[], None], threading.Thread]:
    """Return ``work`` wrapped for a thread of its own, and a thread aiming SIGINT at it.

    Started after the wrapped work, the aimer waits for it to begin, lets
    the main thread block in its wait, then signals that thread only.
    """
    started = threading.Event()
    ident: list[int] = []

    def body() -> None:
        ident.append(threading.get_ident())
        started.set()
        work()

    def aim() -> None:
        started.wait(30)
        time.sleep(0.3)  # let the main thread block in its wait first
        signal.pthread_kill(ident[0], signal.SIGINT)

    return body, threading.Thread(target=aim, daemon=True)


def _sleeping_child() -> None:
    run_child(
        [sys.executable, "-c", f"import time; time.sleep({CHILD_SECONDS})"],
        cwd=pathlib.Path.cwd(),
        timeout=CHILD_SECONDS * 2,
    )


def test_a_signal_taken_by_a_worker_thread_interrupts_a_wait_on_its_future() -> None:
    worker, aimer = _aimed_at(_sleeping_child)
    began = time.monotonic()
    with interruptible(), concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(worker)
        aimer.start()
        with pytest.raises(KeyboardInterrupt):
            result_of(future)
    assert time.monotonic() - began < PROMPT_SECONDS


def test_a_signal_taken_by_another_thread_interrupts_a_child_waited_on_in_the_main_thread() -> None:
    bystander, aimer = _aimed_at(lambda: time.sleep(CHILD_SECONDS))
    threading.Thread(target=bystander, daemon=True).start()
    began = time.monotonic()
    with interruptible():
        aimer.start()
        with pytest.raises(KeyboardInterrupt):
            _sleeping_child()
    assert time.monotonic() - began < PROMPT_SECONDS


def test_result_of_returns_the_value_and_raises_the_workers_own_timeout_error() -> None:
    # A worker's own TimeoutError is its outcome, not a reason to keep waiting.
    def slow_value() -> int:
        time.sleep(0.5)
        return 7

    def times_out() -> None:
        raise subprocess.TimeoutExpired("x", 1)

    def builtin_timeout() -> None:
        raise TimeoutError("the worker's own")

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        assert result_of(pool.submit(slow_value)) == 7
        with pytest.raises(subprocess.TimeoutExpired):
            result_of(pool.submit(times_out))
        with pytest.raises(TimeoutError, match="the worker's own"):
            result_of(pool.submit(builtin_timeout))


def test_run_child_keeps_all_output_across_its_polls_and_still_times_out() -> None:
    # Output written across several polls arrives whole; the timeout holds.
    script = (
        "import sys, time\n"
        "for i in range(5):\n"
        "    print(i, flush=True); print(-i, file=sys.stderr, flush=True); time.sleep(0.15)\n"
    )
    done = run_child([sys.executable, "-c", script], cwd=pathlib.Path.cwd(), timeout=60)
    assert (done.returncode, done.timed_out) == (0, False)
    assert done.stdout.split() == ["0", "1", "2", "3", "4"]
    assert done.stderr.split() == ["0", "-1", "-2", "-3", "-4"]
    began = time.monotonic()
    late = run_child(
        [sys.executable, "-c", "print('before', flush=True); import time; time.sleep(60)"],
        cwd=pathlib.Path.cwd(),
        timeout=1,
    )
    assert late.timed_out
    assert late.stdout.strip() == "before"
    assert time.monotonic() - began < PROMPT_SECONDS
