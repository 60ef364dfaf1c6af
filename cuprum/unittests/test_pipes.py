"""Hop pipes with larger kernel buffers (``cuprum._pipes``), on real pipes."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import pathlib
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

import cuprum
import cuprum._pipes
from cuprum import CAT, Pipeline, sh
from cuprum._pipes import (
    PIPE_CAPACITY,
    PipeSizing,
    _pipe_max_size,
    create_pipe,
    enlarge_pipe,
)
from tests.helpers.processes import TEST_CATALOGUE, script

RUN_TIMEOUT = 8.0
"""Hang bound of a pipeline run, in seconds (it takes a fraction of one)."""

MIB = 1024 * 1024

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


@pytest.mark.usefixtures("stream_backend")
def test_a_stage_writes_into_an_enlarged_hop_pipe() -> None:
    """Each pathway: the pipe a stage writes its output into has the larger buffer."""
    stage = script("import fcntl; print(fcntl.fcntl(1, fcntl.F_GETPIPE_SZ))")
    pipeline = Pipeline((stage, sh.make(CAT, catalogue=TEST_CATALOGUE)()))
    result = pipeline.run_sync(timeout=RUN_TIMEOUT)
    assert result.stdout == f"{min(PIPE_CAPACITY, _max_size())}\n"


def test_hop_pipes_ask_for_one_mib_by_default(pipe: tuple[int, int]) -> None:
    limit = _max_size()
    sizing = enlarge_pipe(pipe[1])
    assert PIPE_CAPACITY == MIB
    if limit >= MIB:
        assert sizing == PipeSizing(MIB, "")
    else:  # pragma: no cover - a system whose pipe-max-size was lowered
        assert sizing == PipeSizing(limit, f"capped at pipe-max-size ({limit} bytes)")
    assert _capacity(pipe[0]) == sizing.capacity


def test_enlarge_reports_the_capacity_it_got(pipe: tuple[int, int]) -> None:
    sizing = enlarge_pipe(pipe[1], 256 * 1024)
    assert sizing == PipeSizing(256 * 1024, "")
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
    reason = f"F_SETPIPE_SZ(4096) refused: {os.strerror(errno.EBUSY)}; size unchanged"
    assert sizing == PipeSizing(256 * 1024, reason)
    assert _capacity(pipe[1]) == 256 * 1024
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("cuprum", logging.DEBUG, f"descriptor {pipe[1]} not enlarged: {reason}")
    ]
    assert os.read(pipe[0], 200_000) == b"z" * 100_000


def test_an_unknown_pipe_max_size_leaves_the_request_uncapped(
    monkeypatch: pytest.MonkeyPatch, pipe: tuple[int, int]
) -> None:
    # The seam: the reading of /proc/sys/fs/pipe-max-size, as on a system
    # without /proc mounted.
    monkeypatch.setattr(cuprum._pipes, "_pipe_max_size", lambda: None)
    assert enlarge_pipe(pipe[1], 256 * 1024) == PipeSizing(256 * 1024, "")
    assert _capacity(pipe[1]) == 256 * 1024


NO_RESIZING = "this platform cannot resize pipes (no F_SETPIPE_SZ)"


def test_without_f_setpipe_sz_a_pipe_keeps_its_size(
    monkeypatch: pytest.MonkeyPatch, pipe: tuple[int, int]
) -> None:
    # The seam: the constant the module took from fcntl at import, absent
    # elsewhere than Linux.
    monkeypatch.setattr(cuprum._pipes, "_F_SETPIPE_SZ", None)
    before = _capacity(pipe[1])
    assert enlarge_pipe(pipe[1], 256 * 1024) == PipeSizing(None, NO_RESIZING)
    assert _capacity(pipe[1]) == before


def test_cuprum_imports_and_makes_pipes_where_fcntl_cannot_resize_them() -> None:
    """Importing where fcntl lacks ``F_SETPIPE_SZ`` works; pipes keep the default size."""
    child = """
import fcntl, os
get_size = fcntl.F_GETPIPE_SZ
del fcntl.F_SETPIPE_SZ
from cuprum._pipes import create_pipe, enlarge_pipe
read_fd, write_fd = create_pipe()
print(enlarge_pipe(write_fd).reason)
print(fcntl.fcntl(write_fd, get_size) == fcntl.fcntl(os.pipe()[1], get_size))
"""
    # The child imports the cuprum this test imported (the kit's mutated copy).
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(cuprum.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, env=env, timeout=30, check=False
    )
    assert (done.returncode, done.stdout.decode(), done.stderr) == (
        0,
        f"{NO_RESIZING}\nTrue\n",
        b"",
    )


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
            size = min(PIPE_CAPACITY, _max_size())
            reason = f"F_SETPIPE_SZ({size}) refused: {os.strerror(errno.EBADF)}; size unchanged"
            assert sizing == PipeSizing(None, reason)
