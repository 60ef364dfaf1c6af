"""Pipelines of safe commands and the engine that runs them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import sys
import typing as typ
from collections.abc import Mapping

from cuprum._backend import StreamBackend, get_stream_backend
from cuprum._command import CommandResult, SafeCmd
from cuprum._errors import (
    InvalidWorkingDirectoryError,
    ProgramNotFoundError,
    TimeoutExpired,
)
from cuprum._pipeline_streams import _pump_stream_dispatch
from cuprum._pipes import create_pipe
from cuprum._streams import OutputSink, abandon_reader, consume_stream

TERMINATE_GRACE_SECONDS = 0.5
"""How long a stage gets to exit after SIGTERM before it is sent SIGKILL."""

_DRAIN_AFTER_KILL_SECONDS = 2.0
"""How long to wait for pumps and consumers to see EOF after killing stages."""

_STREAM_LIMIT = 2**16
"""asyncio's buffer limit for a hop reader (as for subprocess pipes)."""


@dataclasses.dataclass(frozen=True, slots=True)
class PipelineResult:
    """The outcome of a pipeline.

    Parameters
    ----------
    stages
        One result per stage, in order (only the last has ``stdout``).
    stdout
        The last stage's decoded standard output.
    """

    stages: tuple[CommandResult, ...]
    stdout: str

    @property
    def failure_index(self) -> int | None:
        """Index of the first failing stage, or ``None`` if all succeeded.

        A stage other than the last that was ended by ``SIGPIPE`` is not a
        failure: that only happens when a later stage stopped reading early
        (``yes | head -n 1``), which is normal pipeline behaviour.
        """
        last = len(self.stages) - 1
        for index, stage in enumerate(self.stages):
            if stage.ok:
                continue
            if index < last and stage.exit_code == -signal.SIGPIPE:
                continue
            return index
        return None

    @property
    def ok(self) -> bool:
        """Whether every stage succeeded (see :attr:`failure_index`)."""
        return self.failure_index is None


class Pipeline:
    """Safe commands connected stdout-to-stdin, run concurrently.

    Parameters
    ----------
    stages
        The commands, upstream first. At least one.
    """

    def __init__(self, stages: tuple[SafeCmd, ...]) -> None:
        if not stages:
            msg = "a pipeline needs at least one command"
            raise ValueError(msg)
        self.stages = stages

    def __or__(self, other: SafeCmd | Pipeline) -> Pipeline:
        """Append a command (or another pipeline's stages) downstream."""
        if isinstance(other, Pipeline):
            return Pipeline(self.stages + other.stages)
        if isinstance(other, SafeCmd):
            return Pipeline((*self.stages, other))
        return NotImplemented

    def __repr__(self) -> str:
        return " | ".join(" ".join(stage.argv) for stage in self.stages)

    async def run(
        self,
        *,
        capture: bool = True,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> PipelineResult:
        """Run every stage concurrently and wait for all of them.

        Parameters
        ----------
        capture
            Capture the last stage's stdout and every stage's stderr
            (otherwise they are inherited from this process).
        echo
            Also copy captured output to this process's stdout/stderr.
        env
            Variables overlaid on this process's environment.
        cwd
            Working directory for every stage.
        timeout
            Seconds before all stages are terminated and
            :class:`~cuprum.TimeoutExpired` is raised.

        Returns
        -------
        PipelineResult
            Every stage's exit status and the captured output.

        Raises
        ------
        ValueError
            ``CUPRUM_STREAM_BACKEND`` is invalid (before anything is spawned).
        ImportError
            ``CUPRUM_STREAM_BACKEND=rust`` but the extension is unavailable
            (before anything is spawned).
        ProgramNotFoundError
            A stage's program has no executable on ``PATH``.
        InvalidWorkingDirectoryError
            ``cwd`` is not an existing directory.
        TimeoutExpired
            The timeout expired; carries the partial output.
        """
        run = _PipelineRun(self.stages, capture=capture, echo=echo, env=env, cwd=cwd)
        return await run.execute(timeout)

    def run_sync(
        self,
        *,
        capture: bool = True,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> PipelineResult:
        """Run from synchronous code; same semantics as :meth:`run`.

        Returns
        -------
        PipelineResult
            Every stage's exit status and the captured output.
        """
        return asyncio.run(self.run(capture=capture, echo=echo, env=env, cwd=cwd, timeout=timeout))


def _resolve_cwd(cwd: str | os.PathLike[str] | None) -> str | None:
    if cwd is None:
        return None
    path = os.fspath(cwd)
    if not os.path.isdir(path):
        problem = "does not exist" if not os.path.exists(path) else "is not a directory"
        msg = f"cwd {path!r} {problem}; pass an existing directory"
        raise InvalidWorkingDirectoryError(msg)
    return path


def _merged_env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    if env is None:
        return None
    return {**os.environ, **env}


def _locate(stage: SafeCmd, env: Mapping[str, str] | None) -> str:
    search_path = (env if env is not None else os.environ).get("PATH", os.defpath)
    found = shutil.which(stage.program, path=search_path)
    if found is None:
        msg = (
            f"program {stage.program!r} is allowlisted but no executable of that "
            f"name is on PATH ({search_path}); install it or fix PATH"
        )
        raise ProgramNotFoundError(msg)
    return found


class _PipelineRun:
    """The state of one execution of a pipeline."""

    def __init__(
        self,
        stages: tuple[SafeCmd, ...],
        *,
        capture: bool,
        echo: bool,
        env: Mapping[str, str] | None,
        cwd: str | os.PathLike[str] | None,
    ) -> None:
        self.stages = stages
        self.capture = capture
        self.env = _merged_env(env)
        self.cwd = _resolve_cwd(cwd)
        self.stdout_sink = OutputSink(sys.stdout if echo else None)
        self.stderr_sinks = [OutputSink(sys.stderr if echo else None) for _ in stages]
        self.processes: list[asyncio.subprocess.Process] = []
        self.tasks: list[asyncio.Task[typ.Any]] = []
        self.hop_tasks: list[asyncio.Task[int]] = []
        self.hop_readers: list[tuple[asyncio.StreamReader, asyncio.ReadTransport]] = []

    async def execute(self, timeout: float | None) -> PipelineResult:
        backend = get_stream_backend() if len(self.stages) > 1 else None
        executables = [_locate(stage, self.env) for stage in self.stages]
        try:
            await self._spawn(executables)
            self._start_tasks(backend)
            await self._wait(timeout)
        except BaseException:
            await self._terminate()
            raise
        return self._result()

    async def _spawn(self, executables: list[str]) -> None:
        last = len(self.stages) - 1
        for index, (stage, executable) in enumerate(zip(self.stages, executables, strict=True)):
            stdin = asyncio.subprocess.DEVNULL if index == 0 else asyncio.subprocess.PIPE
            if index < last:
                await self._spawn_upstream(stage, executable, stdin)
                continue
            process = await asyncio.create_subprocess_exec(
                *stage.argv,
                executable=executable,
                stdin=stdin,
                stdout=asyncio.subprocess.PIPE if self.capture else None,
                stderr=asyncio.subprocess.PIPE if self.capture else None,
                env=self.env,
                cwd=self.cwd,
            )
            self.processes.append(process)

    async def _spawn_upstream(self, stage: SafeCmd, executable: str, stdin: int) -> None:
        """Spawn a stage whose stdout feeds a hop, holding that output unread.

        The stage writes into a pipe that cuprum connects itself and pauses at
        once, so nothing is read before the hop's dispatcher decides which
        pump moves the bytes: a fast stage cannot finish into asyncio's buffer
        and deprive the Rust pump of its descriptor.
        """
        read_fd, write_fd = create_pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *stage.argv,
                executable=executable,
                stdin=stdin,
                stdout=write_fd,
                stderr=asyncio.subprocess.PIPE if self.capture else None,
                env=self.env,
                cwd=self.cwd,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self.processes.append(process)
        reader = asyncio.StreamReader(limit=_STREAM_LIMIT)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        transport.pause_reading()
        self.hop_readers.append((reader, transport))

    def _start_tasks(self, backend: StreamBackend | None) -> None:
        create = asyncio.get_running_loop().create_task
        for (reader, _), downstream in zip(self.hop_readers, self.processes[1:], strict=True):
            assert downstream.stdin is not None
            self.hop_tasks.append(
                create(_pump_stream_dispatch(reader, downstream.stdin, backend=backend))
            )
        self.tasks.extend(self.hop_tasks)
        last = self.processes[-1]
        if last.stdout is not None:
            self.tasks.append(create(consume_stream(last.stdout, self.stdout_sink)))
        for process, sink in zip(self.processes, self.stderr_sinks, strict=True):
            if process.stderr is not None:
                self.tasks.append(create(consume_stream(process.stderr, sink)))
        self.tasks.extend(create(process.wait()) for process in self.processes)

    async def _wait(self, timeout: float | None) -> None:
        done, pending = await asyncio.wait(
            self.tasks, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION
        )
        for task in done:
            if task.exception() is not None:
                raise typ.cast(BaseException, task.exception())
        if pending:
            assert timeout is not None
            await self._terminate()
            raise TimeoutExpired(
                tuple(stage.argv for stage in self.stages),
                timeout,
                self.stdout_sink.text,
                tuple(sink.text for sink in self.stderr_sinks),
            )

    async def _terminate(self) -> None:
        """Stop every stage (SIGTERM, grace, SIGKILL) and reap everything."""
        running = [p for p in self.processes if p.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        waiters = [asyncio.ensure_future(p.wait()) for p in running]
        if waiters:
            await asyncio.wait(waiters, timeout=TERMINATE_GRACE_SECONDS)
            for process in running:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
        outstanding = [*waiters, *self.tasks]
        if outstanding:
            _, leftover = await asyncio.wait(outstanding, timeout=_DRAIN_AFTER_KILL_SECONDS)
            if leftover:
                # Every stage is dead, yet a pipe is still open: a process that
                # outlived its stage (a background grandchild) holds it, and
                # Process.wait() only returns once its pipes close. Stop
                # waiting for that EOF rather than overrun the timeout.
                self._release_pipes()
                # A pump thread may be blocked on a hop that a stray process
                # still holds; cancelling its task wakes it (see cancel_fd).
                for task in self.hop_tasks:
                    task.cancel()
                _, leftover = await asyncio.wait(leftover, timeout=_DRAIN_AFTER_KILL_SECONDS)
            for task in leftover:
                task.cancel()
            await asyncio.gather(*outstanding, return_exceptions=True)
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for _, transport in self.hop_readers:
            transport.close()

    def _release_pipes(self) -> None:
        """Close this side of every pipe, so nothing waits for their EOF."""
        for _, transport in self.hop_readers:
            transport.close()
        for process in self.processes:
            for reader in (process.stdout, process.stderr):
                if reader is not None:
                    abandon_reader(reader)
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.transport.abort()

    def _result(self) -> PipelineResult:
        last = len(self.stages) - 1
        stages = tuple(
            CommandResult(
                program=stage.program,
                argv=stage.argv,
                exit_code=typ.cast(int, process.returncode),
                pid=process.pid,
                stdout=self.stdout_sink.text if index == last else "",
                stderr=self.stderr_sinks[index].text,
            )
            for index, (stage, process) in enumerate(zip(self.stages, self.processes, strict=True))
        )
        return PipelineResult(stages=stages, stdout=self.stdout_sink.text)
