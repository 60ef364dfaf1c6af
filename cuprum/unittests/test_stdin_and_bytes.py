"""``stdin=``, ``text=False`` and the shared run options, through real processes.

Each behaviour runs on both backends (``stream_backend``: the ``rust`` case
needs the compiled extension).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import typing as typ
from collections.abc import AsyncIterator

import pytest

from cuprum import (
    CAT,
    HEAD,
    YES,
    BytesCommandResult,
    BytesPipelineResult,
    CommandResult,
    Pipeline,
    PipelineResult,
    RunOptions,
    StreamBackend,
    TimeoutExpired,
    sh,
)
from cuprum._options import StdinInput
from tests.helpers.processes import PYTHON, TEST_CATALOGUE, catalogue_with, child_processes

cat = sh.make(CAT)
TIMEOUT = 20.0
BINARY = bytes(range(256)) * 1000


def test_str_stdin_is_sent_as_utf8(stream_backend: StreamBackend) -> None:
    result = (cat() | cat()).run_sync(stdin="grüße €\n", text=False, timeout=TIMEOUT)
    assert result.stdout == "grüße €\n".encode()


def test_bytes_like_stdin_is_sent_unchanged(stream_backend: StreamBackend) -> None:
    for data in (BINARY, bytearray(BINARY), memoryview(BINARY)):
        result = cat().run_sync(stdin=data, text=False)
        assert result.stdout == BINARY


def test_path_stdin_is_read_and_closed(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "in.bin"
    path.write_bytes(BINARY)
    before = set(os.listdir("/proc/self/fd"))
    result = (cat() | cat()).run_sync(stdin=path, text=False, timeout=TIMEOUT)
    assert result.stdout == BINARY
    assert set(os.listdir("/proc/self/fd")) == before


def test_open_file_stdin_starts_at_its_position_and_stays_open(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "in.bin"
    path.write_bytes(BINARY)
    with open(path, "rb") as handle:
        handle.read(1000)  # buffered: the OS offset is further on
        result = cat().run_sync(stdin=handle, text=False)
        assert not handle.closed
        assert handle.fileno() >= 0
    assert result.stdout == BINARY[1000:]


def test_raw_descriptor_stdin_stays_open(stream_backend: StreamBackend) -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"through a pipe")
    os.close(write_fd)
    try:
        result = (cat() | cat()).run_sync(stdin=read_fd, timeout=TIMEOUT)
        os.fstat(read_fd)  # still open: cuprum used a duplicate
    finally:
        os.close(read_fd)
    assert result.stdout == "through a pipe"


def test_a_device_path_stdin_ends_at_its_eof(stream_backend: StreamBackend) -> None:
    # epoll refuses /dev/null; the Python writer once waited on it forever.
    result = (cat() | cat()).run_sync(stdin=pathlib.Path(os.devnull), timeout=TIMEOUT)
    assert result.ok
    assert result.stdout == ""


def test_async_iterable_stdin_is_written_with_back_pressure(
    stream_backend: StreamBackend,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(64):
            yield bytes([index]) * 65536

    result = (cat() | cat()).run_sync(stdin=chunks(), text=False, timeout=TIMEOUT)
    assert result.stdout == b"".join(bytes([index]) * 65536 for index in range(64))


def test_a_first_stage_that_stops_reading_is_not_an_error(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(4 * 1024 * 1024))
    head = sh.make(HEAD)("-c", "3")
    for stdin in (path, path.read_bytes()):
        stdin_value = typ.cast(StdinInput, stdin)
        result = (head | cat()).run_sync(stdin=stdin_value, text=False, timeout=TIMEOUT)
        assert result.ok
        assert result.stdout == path.read_bytes()[:3]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (1.5, "got float"),
        (True, "got bool"),
        (["a"], "got list"),
        (iter([b"a"]), "got list_iterator"),
    ],
)
def test_wrong_stdin_type_fails_before_anything_is_spawned(
    stdin: object, message: str, tmp_path: pathlib.Path
) -> None:
    marker = tmp_path / "spawned"
    touch = sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", f"open({str(marker)!r}, 'w')")
    with pytest.raises(TypeError, match=message):
        touch.run_sync(stdin=typ.cast(StdinInput, stdin))
    assert not marker.exists()
    assert child_processes() == {}


def test_missing_stdin_file_fails_before_anything_is_spawned(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "spawned"
    touch = sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", f"open({str(marker)!r}, 'w')")
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError, match=r"stdin file .*missing\.bin.* does not exist"):
        touch.run_sync(stdin=missing)
    assert not marker.exists()


def test_directory_and_closed_descriptor_stdin_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cat().run_sync(stdin=tmp_path)
    # A number far above any descriptor this process has open (a freshly
    # closed one could be reused by the event loop before the check).
    with pytest.raises(ValueError, match="not an open file descriptor"):
        cat().run_sync(stdin=1_000_000)


def test_an_iterable_yielding_text_fails_the_run() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield typ.cast(bytes, "text")

    with pytest.raises(TypeError, match="yielded str; it must yield bytes"):
        cat().run_sync(stdin=chunks(), timeout=TIMEOUT)


def test_text_false_returns_undecoded_bytes_everywhere(stream_backend: StreamBackend) -> None:
    script = "import sys; sys.stderr.buffer.write(b'\\xff err'); sys.stdout.buffer.write(b'\\xfe')"
    catalogue = catalogue_with(PYTHON)
    command = sh.make(PYTHON, catalogue=catalogue)("-c", script)
    result = command.run_sync(text=False)
    assert isinstance(result, BytesCommandResult)
    assert (result.stdout, result.stderr) == (b"\xfe", b"\xff err")
    piped = (command | cat()).run_sync(text=False, timeout=TIMEOUT)
    assert isinstance(piped, BytesPipelineResult)
    assert piped.stdout == b"\xfe"
    assert [stage.stderr for stage in piped.stages] == [b"\xff err", b""]
    assert [stage.stdout for stage in piped.stages] == [b"", b"\xfe"]
    assert [(stage.program, stage.argv) for stage in piped.stages] == [
        (command.program, command.argv),
        (cat().program, cat().argv),
    ]
    assert [stage.exit_code for stage in piped.stages] == [0, 0]
    assert all(stage.pid > 0 for stage in piped.stages)
    text = command.run_sync()
    assert isinstance(text, CommandResult)
    assert (text.stdout, text.stderr) == ("\ufffd", "\ufffd err")


def test_timeout_partial_output_is_bytes_when_text_is_false() -> None:
    script = "import sys, time; sys.stdout.buffer.write(b'\\xffpart'); sys.stdout.flush(); time.sleep(30)"
    command = sh.make(PYTHON, catalogue=TEST_CATALOGUE)("-c", script)
    with pytest.raises(TimeoutExpired) as caught:
        command.run_sync(text=False, timeout=1.5)
    assert caught.value.stdout == b"\xffpart"
    assert caught.value.stderr == (b"",)


def test_echo_writes_undecoded_bytes_to_the_binary_buffer(
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    cat().run_sync(stdin=b"\xffecho", text=False, echo=True)
    assert capfdbinary.readouterr().out == b"\xffecho"


def test_commands_and_pipelines_share_one_options_object() -> None:
    names = {"capture", "echo", "env", "cwd", "timeout", "stdin", "text"}
    assert {field for field in RunOptions.__dataclass_fields__} == names
    with pytest.raises(TypeError, match=r"unexpected run option.*stdni.*valid options are"):
        cat().run_sync(**typ.cast(typ.Any, {"stdni": b"x"}))
    with pytest.raises(TypeError, match="unexpected run option"):
        Pipeline((cat(),)).run_sync(**typ.cast(typ.Any, {"bogus": 1}))
    result = asyncio.run((cat() | cat()).run(stdin="a", capture=True, echo=False, env={}))
    assert isinstance(result, PipelineResult)
    assert result.stdout == "a"


def test_yes_into_head_with_stdin_still_ends_quietly(stream_backend: StreamBackend) -> None:
    result = (sh.make(YES)() | sh.make(HEAD)("-n", "2")).run_sync(stdin=b"ignored", timeout=TIMEOUT)
    assert result.ok
    assert result.stdout == "y\ny\n"


def test_result_types_follow_text_for_mypy() -> None:
    """``make typecheck`` checks these; at run time they check the classes."""
    text = typ.assert_type(cat().run_sync(stdin=b"x"), CommandResult)
    raw = typ.assert_type(cat().run_sync(stdin=b"x", text=False), BytesCommandResult)
    piped = typ.assert_type((cat() | cat()).run_sync(stdin=b"x", text=False), BytesPipelineResult)
    assert (type(text), type(raw), type(piped)) == (
        CommandResult,
        BytesCommandResult,
        BytesPipelineResult,
    )
    assert (text.stdout, raw.stdout, piped.stdout) == ("x", b"x", b"x")
