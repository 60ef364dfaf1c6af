"""The first stage's input: checking ``stdin=`` and writing it in Python.

:func:`open_source` turns what a caller passed as ``stdin=`` into a
:data:`Source` before anything is spawned, so a wrong type or a missing file
fails the run at once. The source hop (see :mod:`cuprum._hop_ends`) then
moves its bytes into the first stage: a :class:`FileSource` may be spliced
by the Rust pump; everything else is written here, by :func:`write_source`.

Who closes what: a :class:`FileSource` always holds a descriptor cuprum owns
(the file it opened for a path, or a duplicate of the caller's descriptor or
file), closed by :meth:`FileSource.close` when the run ends. The caller's own
file or descriptor is never closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import stat
import typing as typ
from collections.abc import AsyncGenerator, AsyncIterable

from cuprum._options import StdinInput
from cuprum._streams import PUMP_CHUNK_SIZE, close_writer

_DOWNSTREAM_GONE = (BrokenPipeError, ConnectionResetError)

_ACCEPTED = (
    "bytes, bytearray, memoryview, str (sent as UTF-8), a path-like object, an "
    "open binary file, a file descriptor (int), or an async iterable of bytes"
)


@dataclasses.dataclass(frozen=True, slots=True)
class MemorySource:
    """Input held in memory, written by the Python writer."""

    data: bytes


@dataclasses.dataclass(slots=True)
class FileSource:
    """Input read from a descriptor that cuprum owns (a *file source*).

    Parameters
    ----------
    fd
        The owned descriptor; reading starts at its current offset.
    name
        What the caller passed, for messages.
    """

    fd: int
    name: str
    closed: bool = False

    def close(self) -> None:
        """Close the owned descriptor (idempotent)."""
        if not self.closed:
            self.closed = True
            os.close(self.fd)


@dataclasses.dataclass(frozen=True, slots=True)
class IterableSource:
    """Input produced by an async iterable of ``bytes`` chunks."""

    chunks: AsyncIterable[bytes]


Source: typ.TypeAlias = MemorySource | FileSource | IterableSource
"""A checked ``stdin=`` value, ready for the source hop."""


def _open_path(path: os.PathLike[str]) -> FileSource:
    name = os.fspath(path)
    if not os.path.exists(name):
        msg = (
            f"stdin file {name!r} does not exist; pass an existing file, or pass "
            "bytes or str to send data from memory"
        )
        raise FileNotFoundError(msg)
    if os.path.isdir(name):
        msg = f"stdin file {name!r} is a directory; pass a regular file, a pipe or a device"
        raise IsADirectoryError(msg)
    # Not inheritable, as every descriptor os.open makes (PEP 446).
    return FileSource(os.open(name, os.O_RDONLY), name)


def _dup_descriptor(fd: int, name: str) -> FileSource:
    try:
        os.fstat(fd)
    except OSError as exc:
        msg = f"stdin {name} is not an open file descriptor ({exc.strerror}); pass an open one"
        raise ValueError(msg) from exc
    return FileSource(os.dup(fd), name)


def _dup_file(file: io.IOBase) -> FileSource:
    if isinstance(file, io.TextIOBase):
        msg = "stdin is a text-mode file; open it in binary mode ('rb') or pass its path"
        raise TypeError(msg)
    name = repr(getattr(file, "name", file))
    source = _dup_descriptor(file.fileno(), f"file {name}")
    if file.seekable():
        # A buffered file may have read ahead of what its caller consumed;
        # start where the caller's reads would continue. The duplicate shares
        # the file offset, so this also moves the caller's file to that point.
        os.lseek(source.fd, file.tell(), os.SEEK_SET)
    return source


def open_source(stdin: StdinInput | None) -> Source | None:
    """Check ``stdin=`` and turn it into a :data:`Source` (nothing is spawned).

    Parameters
    ----------
    stdin
        What the caller passed.

    Returns
    -------
    Source or None
        ``None`` when there is no input (the first stage gets ``/dev/null``).

    Raises
    ------
    TypeError
        For an unsupported type (including ``bool`` and text-mode files).
    FileNotFoundError
        For a path that does not exist.
    IsADirectoryError
        For a path that names a directory.
    ValueError
        For a descriptor that is not open.
    """
    if stdin is None:
        return None
    if isinstance(stdin, bytes | bytearray | memoryview):
        return MemorySource(bytes(stdin))
    if isinstance(stdin, str):
        return MemorySource(stdin.encode("utf-8"))
    if isinstance(stdin, os.PathLike):
        return _open_path(stdin)
    if isinstance(stdin, bool):
        msg = f"stdin must be {_ACCEPTED}; got bool"
        raise TypeError(msg)
    if isinstance(stdin, int):
        return _dup_descriptor(stdin, f"descriptor {stdin}")
    if isinstance(stdin, io.IOBase):
        return _dup_file(stdin)
    if isinstance(stdin, AsyncIterable):
        return IterableSource(stdin)
    msg = f"stdin must be {_ACCEPTED}; got {type(stdin).__name__}"
    raise TypeError(msg)


async def _memory_chunks(data: bytes) -> AsyncGenerator[bytes, None]:
    view = memoryview(data)
    for start in range(0, len(view), PUMP_CHUNK_SIZE):
        yield bytes(view[start : start + PUMP_CHUNK_SIZE])


async def _direct_chunks(fd: int) -> AsyncGenerator[bytes, None]:
    # A regular file or a device such as /dev/null never makes read() wait
    # for a peer (the page cache, the disk or the driver answers), so it is
    # read directly, one chunk per turn of the loop.
    while chunk := os.read(fd, PUMP_CHUNK_SIZE):
        yield chunk


async def _stream_chunks(fd: int) -> AsyncGenerator[bytes, None]:
    # Pipes, sockets and character devices can wait for a peer: read them
    # through the event loop. The transport owns (and closes) a duplicate.
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=PUMP_CHUNK_SIZE)
    pipe = io.FileIO(os.dup(fd))  # read-only, the default
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        while chunk := await reader.read(PUMP_CHUNK_SIZE):
            yield chunk
    finally:
        transport.close()


def _ignore() -> None:
    """Do nothing: the probe's callback, removed before the loop can run it."""


def _loop_can_wait_on(fd: int) -> bool:
    """Whether the running loop's selector accepts ``fd`` for readiness.

    epoll refuses (``EPERM``) descriptors that are always ready, such as
    ``/dev/null`` or ``/dev/zero``; asyncio would then log the error and its
    reader would wait forever. ``fd`` is cuprum's own, so no one else's
    callback is replaced.
    """
    loop = asyncio.get_running_loop()
    try:
        loop.add_reader(fd, _ignore)
    except PermissionError:
        return False
    loop.remove_reader(fd)
    return True


def _own_chunks(source: MemorySource | FileSource) -> AsyncGenerator[bytes, None]:
    if isinstance(source, MemorySource):
        return _memory_chunks(source.data)
    # A regular file is read directly even where the selector would accept
    # it (poll and select do): asyncio's pipe transport refuses one.
    if stat.S_ISREG(os.fstat(source.fd).st_mode) or not _loop_can_wait_on(source.fd):
        return _direct_chunks(source.fd)
    return _stream_chunks(source.fd)


async def write_source(source: Source, writer: asyncio.StreamWriter) -> int:
    """Write ``source`` into the first stage's stdin with back-pressure.

    Waits for the pipe to drain after every chunk, so memory stays bounded.
    A first stage that exits without reading all its input is not an error
    (as ``yes | head -n 1``): the writer stops quietly. The writer is closed
    when the source ends, so the stage sees end of file.

    Returns
    -------
    int
        Bytes delivered to the stage.

    Raises
    ------
    TypeError
        If an async iterable yields something other than bytes-like data.
    """
    delivered = 0
    own: AsyncGenerator[bytes, None] | None = None
    if isinstance(source, IterableSource):
        chunks = source.chunks
    else:
        chunks = own = _own_chunks(source)
    try:
        async for chunk in chunks:
            # A caller's iterable may yield anything, whatever its annotation.
            item: object = chunk
            if not isinstance(item, bytes | bytearray | memoryview):
                msg = f"stdin async iterable yielded {type(item).__name__}; it must yield bytes"
                raise TypeError(msg)
            writer.write(item)
            await writer.drain()
            delivered += len(chunk)
    except _DOWNSTREAM_GONE:
        pass
    finally:
        if own is not None:
            # Stopping early must not leave a read transport open until the
            # generator is garbage-collected. A caller's iterable is theirs.
            await own.aclose()
        await close_writer(writer)
    return delivered
