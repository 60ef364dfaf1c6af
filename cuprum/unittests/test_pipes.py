"""Hop pipes with larger kernel buffers (``cuprum._pipes``), on real pipes."""

from __future__ import annotations

import fcntl
import logging
import os
import pathlib
import socket
from collections.abc import Iterator

import pytest

from cuprum._pipes import (
    PIPE_CAPACITY,
    PipeSizing,
    _pipe_max_size,
    create_pipe,
    enlarge_pipe,
)

pytestmark = pytest.mark.skipif(
    not hasattr(fcntl, "F_SETPIPE_SZ"), reason="pipe sizes are Linux-only"
)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    try:
        yield read_fd, write_fd
    finally:
        os.close(read_fd)
        os.close(write_fd)


def _capacity(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def _max_size() -> int:
    return int(pathlib.Path("/proc/sys/fs/pipe-max-size").read_text())


def test_create_pipe_enlarges_the_buffer_up_to_pipe_max_size() -> None:
    read_fd, write_fd = create_pipe()
    try:
        expected = min(PIPE_CAPACITY, _max_size())
        assert _capacity(read_fd) == _capacity(write_fd) == expected
        assert not os.get_inheritable(read_fd)
        assert not os.get_inheritable(write_fd)
        os.write(write_fd, b"through")
        assert os.read(read_fd, 100) == b"through"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_enlarge_reports_the_capacity_it_got(pipe: tuple[int, int]) -> None:
    sizing = enlarge_pipe(pipe[1], 256 * 1024)
    assert sizing == PipeSizing(256 * 1024)
    assert _capacity(pipe[0]) == 256 * 1024


def test_a_request_above_pipe_max_size_is_capped(pipe: tuple[int, int]) -> None:
    limit = _max_size()
    sizing = enlarge_pipe(pipe[1], limit * 2)
    assert sizing.capacity == limit == _capacity(pipe[1])
    assert sizing.reason == f"capped at pipe-max-size ({limit} bytes)"


def test_a_refusal_keeps_the_pipe_and_says_why(
    pipe: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    # The kernel refuses to shrink a pipe below the bytes it holds (EBUSY).
    enlarge_pipe(pipe[1], 256 * 1024)
    os.write(pipe[1], b"z" * 100_000)
    with caplog.at_level(logging.DEBUG, logger="cuprum"):
        sizing = enlarge_pipe(pipe[1], 4096)
    assert sizing.capacity == 256 * 1024 == _capacity(pipe[1])
    assert sizing.reason.startswith("F_SETPIPE_SZ(4096) refused: ")
    assert sizing.reason.endswith("; size unchanged")
    assert f"descriptor {pipe[1]} not enlarged" in caplog.text
    assert os.read(pipe[0], 200_000) == b"z" * 100_000


def test_pipe_max_size_is_read_from_proc() -> None:
    assert _pipe_max_size() == _max_size()


@pytest.mark.parametrize("content", [None, "", "many\n"])
def test_an_unknown_pipe_max_size_is_none(tmp_path: pathlib.Path, content: str | None) -> None:
    path = tmp_path / "pipe-max-size"
    if content is not None:
        path.write_text(content)
    assert _pipe_max_size(path) is None


def test_a_known_pipe_max_size_is_parsed(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "pipe-max-size"
    path.write_text("65536\n")
    assert _pipe_max_size(path) == 65536


def test_a_descriptor_that_is_not_a_pipe_is_left_alone(tmp_path: pathlib.Path) -> None:
    left, right = socket.socketpair()
    with left, right, (tmp_path / "file").open("wb") as regular:
        for fd in (left.fileno(), regular.fileno()):
            sizing = enlarge_pipe(fd)
            assert sizing.capacity is None
            assert sizing.reason.startswith(f"F_SETPIPE_SZ({min(PIPE_CAPACITY, _max_size())}) ")
