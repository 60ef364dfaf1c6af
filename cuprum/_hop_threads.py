"""Dedicated threads for blocking hop work (the native pump and its flush).

Why not ``asyncio.to_thread``: that borrows a thread of the event loop's
default executor, a small pool (``min(32, cpus + 4)`` threads) which the
caller may also fill with its own blocking work. A Rust hop blocks its thread
for as long as bytes flow, so a pipeline with more hops than the pool has
threads, or one started while the caller's work occupies the pool, would
wait for a thread that never frees up. Each hop therefore gets a thread of
its own, started on demand and ended when its work returns: no pool, no
queue, nothing a caller can exhaust.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import typing as typ

_T = typ.TypeVar("_T")

HOP_THREAD_NAME = "cuprum-hop"
"""The name of every hop thread (visible in ``threading.enumerate()``)."""


def _settle(future: asyncio.Future[_T], outcome: tuple[bool, typ.Any]) -> None:
    """Resolve ``future`` with a thread's outcome, unless it was cancelled."""
    if future.done():
        # The awaiting task was cancelled; nobody wants the outcome.
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        future.set_exception(value)


async def run_on_hop_thread(
    func: typ.Callable[..., _T],
    /,
    *args: object,
    wake: typ.Callable[[], object] | None = None,
) -> _T:
    """Run ``func(*args)`` on a new dedicated thread and await its result.

    Parameters
    ----------
    func
        A blocking callable (it releases the GIL while it waits).
    *args
        Its positional arguments.
    wake
        Makes a running ``func`` return promptly (the native pump: a byte on
        its ``cancel_fd``). When given, cancelling the awaiting task calls it
        and then waits for the thread to end before re-raising, so nothing the
        thread holds (descriptors) outlives the cancelled task.

    Returns
    -------
    _T
        What ``func`` returned; an exception it raised is re-raised here.

    Notes
    -----
    Without ``wake``, cancelling the awaiting task does not stop the thread:
    it finishes on its own and its outcome is dropped. The thread runs in a
    copy of the caller's context, as with ``asyncio.to_thread``.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        outcome: tuple[bool, typ.Any]
        try:
            outcome = (True, context.run(func, *args))
        except BaseException as exc:  # handed to the awaiting task
            outcome = (False, exc)
        # RuntimeError: the loop closed while the thread worked; nobody
        # awaits the outcome any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, outcome)

    # A daemon thread: a hop whose peer never closes must not keep the
    # interpreter alive at exit (cuprum's own runs cancel it via cancel_fd).
    threading.Thread(target=work, name=HOP_THREAD_NAME, daemon=True).start()
    if wake is None:
        return await future
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        wake()
        # The thread now returns promptly; its outcome no longer matters.
        with contextlib.suppress(Exception):
            await future
        raise
