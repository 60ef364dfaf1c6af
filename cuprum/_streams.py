"""The pure-Python stream pump and the incremental output consumer (sink)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import typing as typ

from cuprum._splice_pump import SpliceOutcome, splice_fds, splice_hop

PUMP_CHUNK_SIZE = 65536
"""Bytes requested per read by the Python pump and the consumer."""

_DOWNSTREAM_GONE = (BrokenPipeError, ConnectionResetError)


def reader_transport(reader: asyncio.StreamReader) -> asyncio.ReadTransport | None:
    """Return the transport feeding ``reader``, or ``None`` if it has none.

    ``asyncio.StreamReader`` has no public accessor for its transport; this is
    the one place cuprum reads the private ``_transport`` attribute (present
    since Python 3.4), so that a hop can stop reading from a finished
    downstream and the Rust pump can take over the descriptor.
    """
    transport = getattr(reader, "_transport", None)
    if isinstance(transport, asyncio.ReadTransport):
        return transport
    return None


def take_buffered_bytes(reader: asyncio.StreamReader) -> bytes:
    """Remove and return the bytes ``reader`` has buffered but not yet handed out.

    Used before the Rust pump takes over a hop's descriptor, so that nothing
    asyncio already read is lost. Reads the private ``_buffer`` attribute; the
    caller must have paused the transport first.
    """
    buffer = getattr(reader, "_buffer", None)
    if not buffer:
        return b""
    data = bytes(buffer)
    buffer.clear()
    return data


def has_buffered_bytes(reader: asyncio.StreamReader) -> bool:
    """Whether ``reader`` holds bytes it read but has not handed out yet.

    Reads the private ``_buffer`` attribute, as :func:`take_buffered_bytes`.
    """
    buffer = getattr(reader, "_buffer", None)
    return bool(buffer)


def abandon_reader(reader: asyncio.StreamReader) -> None:
    """Stop reading from ``reader`` so its writer sees a broken pipe.

    Called when the downstream stage has gone away: closing our read end lets
    the upstream process receive ``SIGPIPE``/``EPIPE`` instead of blocking on
    a full pipe forever.
    """
    transport = reader_transport(reader)
    if transport is not None:
        transport.close()


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close ``writer``, tolerating a reader that has already gone away."""
    writer.close()
    with contextlib.suppress(*_DOWNSTREAM_GONE):
        await writer.wait_closed()


async def pump_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """Copy ``reader`` into ``writer`` until EOF, then close ``writer``.

    Reads at most :data:`PUMP_CHUNK_SIZE` bytes at a time and waits for the
    writer to drain after each write, so memory stays bounded by the buffers.
    If the downstream reader goes away the pump stops, abandons ``reader`` so
    that the upstream stage sees a broken pipe, and returns normally.

    Parameters
    ----------
    reader
        The upstream stage's standard output.
    writer
        The downstream stage's standard input.

    Returns
    -------
    int
        The number of bytes delivered to ``writer``.
    """
    transport = reader_transport(reader)
    delivered = 0
    fds = splice_fds(transport, writer)
    if transport is not None and fds is not None:
        spliced = await _pump_by_splice(reader, writer, transport, fds)
        if not spliced.refused:
            return spliced.moved
        delivered = spliced.moved
    if transport is not None:
        # A pipeline hands over its hop readers paused; this pump reads.
        transport.resume_reading()
    try:
        while True:
            chunk = await reader.read(PUMP_CHUNK_SIZE)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
            delivered += len(chunk)
    except _DOWNSTREAM_GONE:
        abandon_reader(reader)
    finally:
        await close_writer(writer)
    return delivered


async def _pump_by_splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    transport: asyncio.ReadTransport,
    fds: tuple[int, int],
) -> SpliceOutcome:
    """Run a hop through :func:`~cuprum._splice_pump.splice_hop`.

    The transport is paused first, so asyncio reads nothing more, and the
    bytes it already buffered go downstream before the first splice. Unless
    the kernel refused to splice (the caller then copies the rest through
    the ``StreamReader``), the hop is finished here: the reading transport
    and the writer are closed, as the copy loop would.
    """
    transport.pause_reading()
    outcome = SpliceOutcome(0)
    try:
        outcome = await splice_hop(take_buffered_bytes(reader), fds)
    finally:
        if not outcome.refused:
            # Closing the reading transport is also what abandons the reader
            # when the downstream went away: the upstream sees a broken pipe.
            transport.close()
            await close_writer(writer)
    return outcome


class OutputSink:
    """Accumulates captured output so partial output survives cancellation.

    With ``text=True`` (the default) decoding is incremental UTF-8 with
    ``errors="replace"``: a multi-byte character split across reads is
    decoded once both halves arrive. With ``text=False`` the bytes are kept
    as they are.

    Parameters
    ----------
    echo
        A text stream to copy output to as it arrives (``None``: no echo).
        Undecoded output is echoed to its binary ``buffer`` when it has one.
    text
        Decode the output (``True``) or keep ``bytes`` (``False``).
    """

    def __init__(self, echo: typ.TextIO | None = None, *, text: bool = True) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace") if text else None
        self._parts: list[str] = []
        self._chunks: list[bytes] = []
        self._echo = echo
        self.bytes_fed = 0
        """Bytes fed so far (not counting text from the native consumer)."""

    @property
    def echoes(self) -> bool:
        """Whether output is copied to an echo stream as it arrives."""
        return self._echo is not None

    @property
    def decodes(self) -> bool:
        """Whether this sink decodes its input to text."""
        return self._decoder is not None

    def feed(self, data: bytes, *, final: bool = False) -> None:
        """Take ``data`` (``final`` flushes a dangling partial character)."""
        self.bytes_fed += len(data)
        if self._decoder is None:
            if data:
                self._chunks.append(bytes(data))
                self._echo_bytes(data)
            return
        self.feed_text(self._decoder.decode(data, final))

    def feed_text(self, text: str) -> None:
        """Append already decoded text (from the native consumer)."""
        if text:
            self._parts.append(text)
            if self._echo is not None:
                self._echo.write(text)
                self._echo.flush()

    def _echo_bytes(self, data: bytes) -> None:
        if self._echo is None:
            return
        self._echo.flush()
        buffer = getattr(self._echo, "buffer", None)
        if buffer is None:
            self._echo.write(data.decode("utf-8", errors="replace"))
            self._echo.flush()
            return
        buffer.write(data)
        buffer.flush()

    @property
    def text(self) -> str:
        """Everything decoded so far (empty for an undecoding sink)."""
        return "".join(self._parts)

    @property
    def data(self) -> bytes:
        """Every byte kept so far (empty for a decoding sink)."""
        return b"".join(self._chunks)

    @property
    def value(self) -> str | bytes:
        """The output so far: :attr:`text` when decoding, else :attr:`data`."""
        return self.text if self.decodes else self.data


async def consume_stream(reader: asyncio.StreamReader, sink: OutputSink) -> str | bytes:
    """Read ``reader`` to EOF into ``sink`` and return what it captured.

    Parameters
    ----------
    reader
        A captured stream (a stage's stderr, or the last stage's stdout).
    sink
        Where decoded text accumulates; it keeps what arrived even if this
        coroutine is cancelled.

    Returns
    -------
    str or bytes
        The whole output (see :attr:`OutputSink.value`).
    """
    transport = reader_transport(reader)
    if transport is not None:
        # The sink hop hands over its reader paused; this consumer reads.
        transport.resume_reading()
    while True:
        chunk = await reader.read(PUMP_CHUNK_SIZE)
        if not chunk:
            break
        sink.feed(chunk)
    sink.feed(b"", final=True)
    return sink.value
