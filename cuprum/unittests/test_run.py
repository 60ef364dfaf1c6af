"""Running single commands: results, environment, cwd, echo, timeouts, cancel."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pathlib
import time

import pytest

from cuprum import (
    CAT,
    ECHO,
    FALSE,
    PRINTF,
    SLEEP,
    TRUE,
    CommandResult,
    InvalidWorkingDirectoryError,
    TimeoutExpired,
    sh,
)
from cuprum._pipeline import TERMINATE_GRACE_SECONDS
from tests.helpers.processes import (
    TEST_CATALOGUE,
    assert_reaped,
    child_processes,
    kill_quietly,
    open_fds,
    script,
    wait_for_line,
)

MISSING_FILE = "/nonexistent/cuprum-test-file"


def without_pid(result: CommandResult) -> CommandResult:
    return dataclasses.replace(result, pid=0)


# --- results ---------------------------------------------------------------


def test_run_and_run_sync_give_the_same_result() -> None:
    cmd = sh.make(PRINTF)("%s-%s\n", "a", "b")

    async_result = asyncio.run(cmd.run())
    sync_result = cmd.run_sync()

    assert without_pid(async_result) == without_pid(sync_result)
    assert sync_result == CommandResult(
        program=PRINTF,
        argv=("printf", "%s-%s\n", "a", "b"),
        exit_code=0,
        pid=sync_result.pid,
        stdout="a-b\n",
        stderr="",
    )
    assert async_result.pid != sync_result.pid
    assert sync_result.pid > 0


def test_successful_command_is_ok() -> None:
    result = sh.make(TRUE)().run_sync()

    assert result.exit_code == 0
    assert result.ok is True
    assert result.stdout == ""


def test_exit_code_of_failing_command_is_reported() -> None:
    result = sh.make(FALSE)().run_sync()

    assert result.exit_code == 1
    assert result.ok is False


def test_stderr_is_captured_separately_from_stdout() -> None:
    result = sh.make(CAT)(MISSING_FILE).run_sync()

    assert result.exit_code == 1
    assert result.ok is False
    assert result.stdout == ""
    assert result.stderr == f"cat: {MISSING_FILE}: No such file or directory\n"


def test_exit_code_beyond_one_is_reported() -> None:
    result = script("import sys; sys.exit(42)").run_sync()

    assert result.exit_code == 42
    assert result.ok is False


def test_death_by_signal_is_a_negative_exit_code() -> None:
    result = script("import os, signal; os.kill(os.getpid(), signal.SIGUSR1)").run_sync()

    assert result.exit_code == -10
    assert result.ok is False


def test_stdin_of_a_single_command_is_empty() -> None:
    # stdin is /dev/null, so cat ends at once instead of waiting for input.
    result = sh.make(CAT)().run_sync(timeout=10)

    assert result.exit_code == 0
    assert result.stdout == ""


# --- environment and working directory -------------------------------------


def test_env_is_overlaid_on_the_inherited_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUPRUM_TEST_INHERITED", "from-parent")
    monkeypatch.setenv("CUPRUM_TEST_OVERRIDDEN", "old")
    printenv = sh.make("printenv", catalogue=TEST_CATALOGUE)
    cmd = printenv("CUPRUM_TEST_INHERITED", "CUPRUM_TEST_OVERRIDDEN", "CUPRUM_TEST_ADDED")

    result = cmd.run_sync(env={"CUPRUM_TEST_OVERRIDDEN": "new", "CUPRUM_TEST_ADDED": "a b;$HOME"})

    assert result.exit_code == 0
    assert result.stdout == "from-parent\nnew\na b;$HOME\n"


def test_env_overlay_does_not_change_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUPRUM_TEST_ADDED", raising=False)
    printenv = sh.make("printenv", catalogue=TEST_CATALOGUE)

    printenv("CUPRUM_TEST_ADDED").run_sync(env={"CUPRUM_TEST_ADDED": "x"})

    assert "CUPRUM_TEST_ADDED" not in os.environ


def test_without_env_the_environment_is_inherited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUPRUM_TEST_INHERITED", "yes")
    printenv = sh.make("printenv", catalogue=TEST_CATALOGUE)

    result = printenv("CUPRUM_TEST_INHERITED").run_sync()

    assert result.stdout == "yes\n"


@pytest.mark.parametrize("as_path", [False, True], ids=["str", "pathlib"])
def test_cwd_sets_the_working_directory(tmp_path: pathlib.Path, as_path: bool) -> None:
    pwd = sh.make("pwd", catalogue=TEST_CATALOGUE)
    cwd: str | pathlib.Path = tmp_path if as_path else str(tmp_path)

    result = pwd().run_sync(cwd=cwd)

    assert result.stdout == f"{os.path.realpath(tmp_path)}\n"


def test_relative_paths_resolve_against_cwd(tmp_path: pathlib.Path) -> None:
    (tmp_path / "data.txt").write_text("inside cwd\n", encoding="utf-8")

    result = sh.make(CAT)("data.txt").run_sync(cwd=tmp_path)

    assert result.stdout == "inside cwd\n"


def test_missing_cwd_is_rejected(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing"
    before = child_processes()

    with pytest.raises(InvalidWorkingDirectoryError) as excinfo:
        sh.make(ECHO)("x").run_sync(cwd=missing)

    assert str(excinfo.value) == (
        f"cwd {str(missing)!r} does not exist; pass an existing directory"
    )
    assert isinstance(excinfo.value, NotADirectoryError)
    assert child_processes() == before


def test_file_as_cwd_is_rejected(tmp_path: pathlib.Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("", encoding="utf-8")

    with pytest.raises(InvalidWorkingDirectoryError) as excinfo:
        asyncio.run(sh.make(ECHO)("x").run(cwd=str(a_file)))

    assert str(excinfo.value) == (
        f"cwd {str(a_file)!r} is not a directory; pass an existing directory"
    )


# --- capture and echo ------------------------------------------------------


def test_capture_false_leaves_output_uncaptured(
    capfd: pytest.CaptureFixture[str],
) -> None:
    result = sh.make(PRINTF)("to the terminal\n").run_sync(capture=False)
    failed = sh.make(CAT)(MISSING_FILE).run_sync(capture=False)

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""
    assert failed.exit_code == 1
    assert failed.stderr == ""
    captured = capfd.readouterr()
    assert captured.out == "to the terminal\n"
    assert f"cat: {MISSING_FILE}: No such file or directory" in captured.err


def test_echo_copies_output_to_our_streams(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = sh.make(PRINTF)("echoed €\n").run_sync(echo=True)
    failed = sh.make(CAT)(MISSING_FILE).run_sync(echo=True)

    assert result.stdout == "echoed €\n"
    assert failed.stderr == f"cat: {MISSING_FILE}: No such file or directory\n"
    captured = capsys.readouterr()
    assert captured.out == "echoed €\n"
    assert captured.err == f"cat: {MISSING_FILE}: No such file or directory\n"


def test_without_echo_nothing_is_copied(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = sh.make(PRINTF)("quiet\n").run_sync()
    failed = sh.make(CAT)(MISSING_FILE).run_sync()

    assert quiet.stdout == "quiet\n"
    assert failed.stderr == f"cat: {MISSING_FILE}: No such file or directory\n"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# --- timeouts ---------------------------------------------------------------


def test_timeout_raises_with_partial_output() -> None:
    cmd = script(
        "import sys, time\n"
        "print('partial', flush=True)\n"
        "print('oops', file=sys.stderr, flush=True)\n"
        "time.sleep(30)\n"
    )
    fds_before = open_fds()
    children_before = child_processes()
    started = time.monotonic()

    with pytest.raises(TimeoutExpired) as excinfo:
        cmd.run_sync(timeout=0.5)

    elapsed = time.monotonic() - started
    error = excinfo.value
    assert error.stdout == "partial\n"
    assert error.stderr == ("oops\n",)
    assert error.timeout == 0.5
    assert error.argv == (cmd.argv,)
    assert str(error).endswith(" timed out after 0.5 s")
    assert isinstance(error, TimeoutError)
    assert 0.5 <= elapsed < 3.0
    assert child_processes() == children_before
    assert open_fds() == fds_before


def test_command_finishing_within_timeout_is_unaffected() -> None:
    result = sh.make(PRINTF)("fast\n").run_sync(timeout=10)

    assert result.stdout == "fast\n"
    assert result.exit_code == 0


def test_timed_out_process_is_reaped_and_no_descriptor_leaks(
    tmp_path: pathlib.Path,
) -> None:
    pid_file = tmp_path / "pid"
    cmd = script(
        "import os, sys, time\nopen(sys.argv[1], 'w').write(f'{os.getpid()}\\n')\ntime.sleep(30)\n",
        str(pid_file),
    )

    async def scenario() -> int:
        fds_before = open_fds()
        task = asyncio.create_task(cmd.run(timeout=1.0))
        pid = int(await wait_for_line(pid_file))
        with pytest.raises(TimeoutExpired):
            await task
        assert open_fds() == fds_before
        return pid

    pid = asyncio.run(scenario())
    assert_reaped([pid])


def test_process_ignoring_sigterm_is_killed_after_the_grace_period(
    tmp_path: pathlib.Path,
) -> None:
    log = tmp_path / "log"
    cmd = script(
        "import signal, sys, time\n"
        "log = open(sys.argv[1], 'a', buffering=1)\n"
        "signal.signal(signal.SIGTERM, lambda *_: log.write('TERM\\n'))\n"
        "log.write('ready\\n')\n"
        "while True:\n"
        "    time.sleep(0.05)\n",
        str(log),
    )
    children_before = child_processes()

    async def scenario() -> float:
        task = asyncio.create_task(cmd.run(timeout=5))
        await wait_for_line(log)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    elapsed = asyncio.run(scenario())

    assert log.read_text(encoding="utf-8") == "ready\nTERM\n"
    assert TERMINATE_GRACE_SECONDS <= elapsed < TERMINATE_GRACE_SECONDS + 2.0
    assert child_processes() == children_before


def test_timeout_is_honoured_when_a_grandchild_keeps_the_pipes_open(
    tmp_path: pathlib.Path,
) -> None:
    # The stage starts a background process that inherits its stdout and
    # stderr and outlives it; the timeout must still end the run promptly.
    pid_file = tmp_path / "grandchild"
    cmd = script(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '30'])\n"
        "open(sys.argv[1], 'w').write(f'{child.pid}\\n')\n"
        "print('started', flush=True)\n"
        "time.sleep(30)\n",
        str(pid_file),
    )
    fds_before = open_fds()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutExpired) as excinfo:
            cmd.run_sync(timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        kill_quietly(int(pid_file.read_text(encoding="utf-8")))

    assert excinfo.value.stdout == "started\n"
    assert elapsed < 5.0
    assert open_fds() == fds_before


# --- cancellation -----------------------------------------------------------


def test_cancellation_terminates_the_process_with_sigterm(
    tmp_path: pathlib.Path,
) -> None:
    log = tmp_path / "log"
    cmd = script(
        "import os, signal, sys, time\n"
        "log = open(sys.argv[1], 'a', buffering=1)\n"
        "def on_term(*_):\n"
        "    log.write('TERM\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "log.write(f'{os.getpid()}\\n')\n"
        "time.sleep(30)\n",
        str(log),
    )
    children_before = child_processes()

    async def scenario() -> int:
        fds_before = open_fds()
        task = asyncio.create_task(cmd.run())
        pid = int(await wait_for_line(log))
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # SIGTERM was enough: no wait for the SIGKILL grace period.
        assert time.monotonic() - started < TERMINATE_GRACE_SECONDS
        assert open_fds() == fds_before
        return pid

    pid = asyncio.run(scenario())

    assert log.read_text(encoding="utf-8") == f"{pid}\nTERM\n"
    assert_reaped([pid])
    assert child_processes() == children_before


def test_cancelled_run_does_not_disturb_a_concurrent_run() -> None:
    async def scenario() -> CommandResult:
        doomed = asyncio.create_task(sh.make(SLEEP)("30").run())
        survivor = asyncio.create_task(sh.make(PRINTF)("alive\n").run())
        await asyncio.sleep(0.2)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return await survivor

    result = asyncio.run(scenario())

    assert result.stdout == "alive\n"
    assert result.exit_code == 0
