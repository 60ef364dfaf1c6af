"""The engine's own rules, apart from moving bytes.

Where a stage's program is looked up, when a stream backend is needed at
all, and that a run waits for every stage. Real processes throughout; the
only thing staged is a tiny executable in a temporary directory that is on
the run's ``PATH`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import stat
import time
import typing as typ
from collections.abc import AsyncIterator

import pytest

from cuprum import (
    CAT,
    ECHO,
    SLEEP,
    YES,
    Pipeline,
    ProgramNotFoundError,
    SafeCmd,
    StreamBackend,
    TimeoutExpired,
    sh,
)
from cuprum import _pipeline as pipeline_module
from cuprum._backend import BACKEND_ENV_VAR
from cuprum._pipeline import TERMINATE_GRACE_SECONDS
from cuprum._splice_pump import copy_loop_only
from tests.helpers.processes import (
    TEST_CATALOGUE,
    catalogue_with,
    child_processes,
    children_deaf_to_sigterm,
    kill_quietly,
    open_fds,
    script,
)

MISSING_FILE = "/nonexistent/cuprum-engine-file"
PROBE = "cuprum-engine-probe"
"""A program that exists only in a test's temporary directory."""

cat = sh.make(CAT)
echo = sh.make(ECHO)
sleep = sh.make(SLEEP)


@pytest.fixture
def probe_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A directory holding an executable ``PROBE`` that prints its own name."""
    probe = tmp_path / PROBE
    probe.write_text("#!/bin/sh\necho found-on-the-run-path\n", encoding="utf-8")
    probe.chmod(probe.stat().st_mode | stat.S_IXUSR)
    return tmp_path


# --- where programs are found -------------------------------------------------


def test_a_stage_is_found_on_the_runs_own_path(probe_dir: pathlib.Path) -> None:
    # The probe is on the PATH given to the run, not on this process's PATH.
    probe = sh.make(PROBE, catalogue=catalogue_with(PROBE))
    path = f"{probe_dir}:/usr/bin:/bin"

    result = (probe() | cat()).run_sync(env={"PATH": path})

    assert result.stdout == "found-on-the-run-path\n"
    assert result.ok


def test_a_program_missing_from_the_runs_path_names_that_path(
    tmp_path: pathlib.Path,
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    with pytest.raises(ProgramNotFoundError) as excinfo:
        echo("x").run_sync(env={"PATH": str(empty)})

    assert str(excinfo.value) == (
        f"program 'echo' is allowlisted but no executable of that name is on PATH "
        f"({empty}); install it or fix PATH"
    )


def test_without_any_path_the_default_search_path_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PATH", raising=False)
    missing = sh.make(PROBE, catalogue=catalogue_with(PROBE))

    found = echo("on the default path").run_sync()
    with pytest.raises(ProgramNotFoundError) as excinfo:
        missing().run_sync()

    assert found.stdout == "on the default path\n"
    assert f"on PATH ({os.defpath});" in str(excinfo.value)


# --- when a backend is needed ------------------------------------------------------


@pytest.mark.parametrize(
    ("stages", "stdin", "capture"),
    [
        (2, None, False),  # a hop between two stages
        (1, "in", False),  # stdin fed through a source hop
        (1, None, True),  # output captured through a sink hop
    ],
)
def test_a_run_with_a_hop_resolves_the_backend_before_spawning(
    monkeypatch: pytest.MonkeyPatch, stages: int, stdin: str | None, capture: bool
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "no-such-backend")
    pipeline = Pipeline((sleep("30"),) * stages)
    before = child_processes()

    with children_deaf_to_sigterm():
        started = time.monotonic()
        with pytest.raises(ValueError, match=BACKEND_ENV_VAR):
            pipeline.run_sync(stdin=stdin, capture=capture)
        elapsed = time.monotonic() - started

    # A stage spawned before the error would have needed SIGKILL after the
    # grace period (its SIGTERM is blocked), so this bound proves none was.
    assert elapsed < TERMINATE_GRACE_SECONDS
    assert child_processes() == before


def test_a_run_without_hops_needs_no_backend(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # One stage, nothing fed in, nothing captured: no byte crosses the
    # pathway, so even an invalid backend setting does not matter.
    monkeypatch.setenv(BACKEND_ENV_VAR, "no-such-backend")

    result = echo("no hops").run_sync(capture=False)

    assert result.exit_code == 0
    assert capfd.readouterr().out == "no hops\n"


# --- where output goes -----------------------------------------------------------------


def test_without_capture_every_stages_stderr_reaches_the_terminal(
    stream_backend: StreamBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    # Not only the last stage's: an upstream stage's stderr is not captured
    # either (it is not given a pipe when nothing is captured).
    result = (cat(MISSING_FILE) | cat()).run_sync(capture=False)

    assert [stage.stderr for stage in result.stages] == ["", ""]
    assert [stage.exit_code for stage in result.stages] == [1, 0]
    assert f"cat: {MISSING_FILE}: No such file or directory" in capfd.readouterr().err


def test_without_capture_the_last_stage_still_gets_env_and_cwd(
    stream_backend: StreamBackend, tmp_path: pathlib.Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The uncaptured last stage is spawned apart from the others (its stdout
    # is inherited, not a pipe); it must get the run's env and cwd all the same.
    printenv = sh.make("printenv", catalogue=TEST_CATALOGUE)
    pwd = sh.make("pwd", catalogue=TEST_CATALOGUE)

    (echo("x") | printenv("CUPRUM_ENGINE_VAR")).run_sync(
        capture=False, env={"CUPRUM_ENGINE_VAR": "from-the-run"}
    )
    (echo("x") | pwd()).run_sync(capture=False, cwd=tmp_path)

    assert capfd.readouterr().out == f"from-the-run\n{tmp_path}\n"


def test_without_capture_the_last_stage_still_leads_its_own_group(
    stream_backend: StreamBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    leader = script("import os\nprint(os.getpgrp() == os.getpid() != os.getppid())\n")

    (echo("x") | leader).run_sync(capture=False)

    assert capfd.readouterr().out == "True\n"


# --- every stage is waited for ------------------------------------------------------


def test_a_stage_that_closes_its_output_early_is_still_waited_for(
    stream_backend: StreamBackend,
) -> None:
    # Upstream closes its stdout at once (the hop and downstream finish), then
    # lingers and fails: the run must wait for it and report its status.
    upstream = script("import os, time\nos.close(1)\ntime.sleep(1.0)\nraise SystemExit(3)\n")

    result = (upstream | cat()).run_sync()

    assert [stage.exit_code for stage in result.stages] == [3, 0]
    assert result.failure_index == 0


# --- a failing hop ends the run at once ---------------------------------------------


def test_a_failing_hop_ends_the_run_without_waiting_for_the_stages(
    stream_backend: StreamBackend,
) -> None:
    # The stage never reads its stdin and would run for 30 s: the error in
    # the source hop must surface at once (and stop it), not after the
    # stage, nor as a timeout.
    async def failing_input() -> AsyncIterator[bytes]:
        yield b"first chunk\n"
        msg = "the input broke"
        raise RuntimeError(msg)

    before = child_processes()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the input broke"):
        sleep("30").run_sync(stdin=failing_input(), timeout=6)
    elapsed = time.monotonic() - started

    # Waiting for the other tasks first would raise only at the 6 s timeout.
    assert elapsed < 4
    assert child_processes() == before


# --- failures and escapes while stopping ------------------------------------------


@pytest.mark.parametrize("failing", [0, 1], ids=["first-stage", "last-stage"])
def test_a_stage_that_cannot_be_executed_leaves_nothing_behind(
    stream_backend: StreamBackend, tmp_path: pathlib.Path, failing: int
) -> None:
    # Executable bits but no valid format: found on PATH, refused by exec.
    bogus = tmp_path / PROBE
    bogus.write_bytes(b"\x00\x01 not a program\n")
    bogus.chmod(0o755)
    stages = [script("import time; time.sleep(30)"), script("import time; time.sleep(30)")]
    stages[failing] = sh.make(PROBE, catalogue=catalogue_with(PROBE))()
    children_before = child_processes()
    fds_before = open_fds()

    with pytest.raises(OSError, match="Exec format error"):
        Pipeline(tuple(stages)).run_sync(env={"PATH": f"{tmp_path}:/usr/bin:/bin"})

    assert open_fds() == fds_before
    assert child_processes() == children_before


def _escaping_stage(pid_file: pathlib.Path) -> SafeCmd:
    """A stage whose grandchild leaves the stage's group, holding its stdin and stdout.

    The grandchild starts a new session, so stopping the stage groups cannot
    kill it, and it never reads: every pipe it inherited stays open.
    """
    return script(
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '10'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{child.pid}}\\n')\n"
        "print('said', flush=True)\n"
        "time.sleep(30)\n"
    )


# Which pipe the escaped grandchild holds, and the pipeline that makes it so.
HELD_PIPES: dict[str, typ.Callable[[SafeCmd], Pipeline]] = {
    "a-hop": lambda stage: stage | cat(),
    "the-captured-output": lambda stage: Pipeline((stage,)),
    # A stdin nobody reads, so the hop into it stays blocked on a full pipe.
    "a-stages-stdin": lambda stage: sh.make(YES)() | stage,
}


def _time_out_with_a_pipe_held(pipeline: Pipeline, pid_file: pathlib.Path) -> None:
    """Run ``pipeline`` into a 0.5 s timeout; check it ends promptly and leaks nothing."""
    fds_before = open_fds()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutExpired) as excinfo:
            pipeline.run_sync(timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        kill_quietly(int(pid_file.read_text(encoding="utf-8")))

    assert excinfo.value.stdout == "said\n"
    # Stopping takes the 2 s drain once; waiting out the held pipe would
    # take it twice (at least 0.5 + 2 + 2 s, whatever the load).
    assert elapsed < 4.5
    assert open_fds() == fds_before


@pytest.mark.parametrize("held", sorted(HELD_PIPES))
def test_a_timeout_ends_while_an_escaped_grandchild_holds_a_pipe(
    stream_backend: StreamBackend, tmp_path: pathlib.Path, held: str
) -> None:
    pid_file = tmp_path / "escaped"
    _time_out_with_a_pipe_held(HELD_PIPES[held](_escaping_stage(pid_file)), pid_file)


def test_a_stdin_held_behind_the_copy_loop_is_aborted_not_flushed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    # The copy loop is the pump that leaves bytes in the stdin transport's
    # own buffer (splice and the Rust pump write to the descriptor
    # directly), so only an abort, not a close, lets that pipe go at once.
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    pid_file = tmp_path / "escaped"
    with copy_loop_only():
        _time_out_with_a_pipe_held(
            HELD_PIPES["a-stages-stdin"](_escaping_stage(pid_file)), pid_file
        )


@pytest.mark.parametrize("ending", ["timeout", "cancelled"])
def test_a_hop_that_outlasts_its_cancellation_is_cancelled_again(
    monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    # Fault injection at the seam between the engine and the pathway (the
    # hop dispatcher it imports): no real pump shrugs off a cancellation,
    # but if one did, the engine's last resort must still end the run.
    cancels: list[float] = []

    async def stubborn_hop(*_: object, **__: object) -> int:
        for _attempt in range(2):
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancels.append(time.monotonic())  # ignored: keeps waiting
        await asyncio.sleep(0.5)  # then winds down on its own
        return 0

    monkeypatch.setattr(pipeline_module, "_pump_stream_dispatch", stubborn_hop)

    async def scenario() -> set[asyncio.Task[typ.Any]]:
        if ending == "timeout":
            with pytest.raises(TimeoutExpired):
                await (echo("x") | cat()).run(timeout=0.5)
        else:
            run = asyncio.create_task((echo("x") | cat()).run())
            await asyncio.sleep(0.5)
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
        return asyncio.all_tasks() - {asyncio.current_task()}

    # When run() ends, every task it started has ended (none left behind),
    # even one that took both cancellations to wind down.
    assert asyncio.run(scenario()) == set()
    # Once when the pipes were released, once more when the drain ran out.
    assert len(cancels) == 2
    assert cancels[1] - cancels[0] >= 1.9


def test_a_timeout_carries_what_the_stages_wrote_while_stopping(
    stream_backend: StreamBackend,
) -> None:
    # The stages are stopped before TimeoutExpired is built, so output they
    # write on SIGTERM is part of it.
    stage = script(
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('stopping', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('started', flush=True)\n"
        "time.sleep(30)\n"
    )

    with pytest.raises(TimeoutExpired) as excinfo:
        stage.run_sync(timeout=2)

    assert excinfo.value.stdout == "started\nstopping\n"
