"""Routing of a run's two ends, the source hop and the sink hop.

Dispatch rules (the full table of hop kinds is in ``docs/cuprum-design.md``):

=========  ==========================  =======================================
hop        backend / descriptors       mover
=========  ==========================  =======================================
source     PYTHON                      Python writer (any source)
source     RUST, usable                Rust pump for a file source; Python
                                       writer for in-memory data and async
                                       iterables
source     RUST, unusable              Python writer (*forced fallback*)
sink       PYTHON                      Python consumer
sink       RUST, usable                native consumer (``rust_consume_stream``)
                                       when decoding text without echo and
                                       without a timeout; otherwise the Python
                                       consumer
sink       RUST, unusable              Python consumer (*forced fallback*)
=========  ==========================  =======================================

Why the sink rule has conditions: the native consumer returns the whole
decoded text once, at end of file. It cannot echo as output arrives, cannot
return ``bytes``, and cannot be cancelled, so a run with a timeout (which
must return partial output) uses the Python consumer. The sink also uses the
Python consumer when asyncio read some output before the hop was dispatched,
so that a character split between those bytes and the rest is decoded once.

As for inter-stage hops, a ``CUPRUM_STREAM_BACKEND`` error is never
swallowed, and both seams of :mod:`cuprum._pipeline_streams`
(:func:`~cuprum._pipeline_streams.observe_hops`,
:func:`~cuprum._pipeline_streams.simulate_unusable_descriptors`) apply here.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import typing as typ

from cuprum._backend import NATIVE_MODULE_NAME, StreamBackend, get_stream_backend
from cuprum._hop_threads import run_on_hop_thread
from cuprum._pipeline_streams import (
    _CANCEL_SIGNAL,
    HopKind,
    HopPump,
    HopRecord,
    _descriptors_unusable,
    _dup_pair,
    _extract_reader_fd,
    _extract_writer_fd,
    _load_native_pump,
    _notify,
    _pump_owned_fds,
)
from cuprum._pipes import enlarge_pipe
from cuprum._sources import FileSource, Source, write_source
from cuprum._streams import (
    OutputSink,
    abandon_reader,
    close_writer,
    consume_stream,
    has_buffered_bytes,
)


def _source_fds(source: Source, writer: asyncio.StreamWriter) -> tuple[int, int] | None:
    """Return the file source's and the stage's descriptors, if both usable."""
    if not isinstance(source, FileSource) or _descriptors_unusable.get():
        return None
    writer_fd = _extract_writer_fd(writer)
    if writer_fd is None:
        return None
    return source.fd, writer_fd


async def _pump_file_with_rust(writer: asyncio.StreamWriter, fds: tuple[int, int]) -> int:
    """Splice a file source into the first stage with the Rust pump.

    The pump works on duplicates of both descriptors (closed by its thread)
    and is woken through ``cancel_fd`` if the run is cancelled; the hop then
    ends only after the thread has. A stage that stops reading early ends the
    pump quietly (``EPIPE``).
    """
    pump = _load_native_pump()
    try:
        reader_fd, writer_fd = _dup_pair(fds)
        enlarge_pipe(writer_fd)  # best effort, like the hop pipes cuprum makes
        cancel_read, cancel_write = os.pipe()
        try:
            return await run_on_hop_thread(
                _pump_owned_fds,
                pump,
                reader_fd,
                writer_fd,
                cancel_read,
                wake=functools.partial(os.write, cancel_write, _CANCEL_SIGNAL),
            )
        finally:
            # Frees the descriptor; if the pump still waits, it wakes up.
            os.close(cancel_write)
    finally:
        await close_writer(writer)


async def dispatch_source_hop(
    source: Source,
    writer: asyncio.StreamWriter,
    *,
    backend: StreamBackend | None = None,
) -> int:
    """Move the ``stdin=`` input into the first stage with the allowed mover.

    Parameters
    ----------
    source
        The checked input (see :func:`cuprum._sources.open_source`).
    writer
        The first stage's standard input; closed when the hop ends.
    backend
        The run's resolved backend; resolved from the environment when
        ``None``.

    Returns
    -------
    int
        Bytes delivered to the stage.

    Raises
    ------
    ImportError
        If ``rust`` is forced and the extension is unavailable.
    ValueError
        If ``CUPRUM_STREAM_BACKEND`` holds an unknown value.
    """
    selected = get_stream_backend() if backend is None else backend
    if selected is StreamBackend.RUST:
        fds = _source_fds(source, writer)
        if fds is not None:
            moved = await _pump_file_with_rust(writer, fds)
            _notify(HopRecord(selected, HopPump.RUST, False, moved, HopKind.SOURCE))
            return moved
        forced = isinstance(source, FileSource)
        moved = await write_source(source, writer)
        _notify(HopRecord(selected, HopPump.PYTHON, forced, moved, HopKind.SOURCE))
        return moved
    moved = await write_source(source, writer)
    _notify(HopRecord(selected, HopPump.PYTHON, False, moved, HopKind.SOURCE))
    return moved


class _NativeConsumer(typ.Protocol):
    def __call__(self, fd: int, /) -> str: ...


def _load_native_consumer() -> _NativeConsumer:
    """Return the compiled ``rust_consume_stream`` function."""
    module = importlib.import_module(NATIVE_MODULE_NAME)
    consume: _NativeConsumer = module.rust_consume_stream
    return consume


def _consume_owned_fd(consume: _NativeConsumer, fd: int) -> str:
    """Run ``consume`` on a descriptor this thread owns, then close it."""
    try:
        return consume(fd)
    finally:
        os.close(fd)


async def _consume_with_rust(reader: asyncio.StreamReader, sink: OutputSink, fd: int) -> int:
    """Read the last stage's stdout to EOF with the native consumer."""
    consume = _load_native_consumer()
    try:
        text = await run_on_hop_thread(_consume_owned_fd, consume, os.dup(fd))
    finally:
        # Close cuprum's copy of the descriptor (the thread closes its own).
        abandon_reader(reader)
    sink.feed_text(text)
    # The native consumer reports text, not a byte count: count its UTF-8.
    return len(text.encode())


def _native_may_consume(reader: asyncio.StreamReader, sink: OutputSink, *, bounded: bool) -> bool:
    """Whether the native consumer may read this sink (see the module's table).

    Only for decoded text without echo in a run without a timeout, and only
    while asyncio has buffered none of the output.
    """
    return not (bounded or not sink.decodes or sink.echoes or has_buffered_bytes(reader))


async def dispatch_sink_hop(
    reader: asyncio.StreamReader,
    sink: OutputSink,
    *,
    bounded: bool,
    backend: StreamBackend | None = None,
) -> int:
    """Capture the last stage's stdout into ``sink`` with the allowed consumer.

    Parameters
    ----------
    reader
        The last stage's standard output, handed over paused.
    sink
        Where the output accumulates (text or bytes, maybe echoed).
    bounded
        Whether the run has a timeout (its partial output must survive).
    backend
        The run's resolved backend; resolved from the environment when
        ``None``.

    Returns
    -------
    int
        Bytes captured (UTF-8 length of the text for the native consumer).

    Raises
    ------
    ImportError
        If ``rust`` is forced and the extension is unavailable.
    ValueError
        If ``CUPRUM_STREAM_BACKEND`` holds an unknown value.
    """
    selected = get_stream_backend() if backend is None else backend
    if selected is StreamBackend.RUST:
        fd = None if _descriptors_unusable.get() else _extract_reader_fd(reader)
        if fd is not None and _native_may_consume(reader, sink, bounded=bounded):
            moved = await _consume_with_rust(reader, sink, fd)
            _notify(HopRecord(selected, HopPump.RUST, False, moved, HopKind.SINK))
            return moved
        moved = await _consume_with_python(reader, sink)
        _notify(HopRecord(selected, HopPump.PYTHON, fd is None, moved, HopKind.SINK))
        return moved
    moved = await _consume_with_python(reader, sink)
    _notify(HopRecord(selected, HopPump.PYTHON, False, moved, HopKind.SINK))
    return moved


async def _consume_with_python(reader: asyncio.StreamReader, sink: OutputSink) -> int:
    """Read the last stage's stdout with the Python consumer; count the bytes.

    Each run has a fresh sink, so what it was fed is what this hop moved.
    """
    await consume_stream(reader, sink)
    return sink.bytes_fed
