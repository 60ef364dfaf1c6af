"""Pipelines of safe commands and the engine that runs them."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import sys
import typing as typ
from collections.abc import Mapping

from cuprum._backend import StreamBackend, get_stream_backend
from cuprum._command import BytesCommandResult, CommandResult, OutT, SafeCmd
from cuprum._errors import (
    InvalidWorkingDirectoryError,
    ProgramNotFoundError,
    TimeoutExpired,
)
from cuprum._hop_ends import dispatch_sink_hop, dispatch_source_hop
from cuprum._options import RunKwargs, RunOptions
from cuprum._pipeline_streams import _pump_stream_dispatch
from cuprum._pipes import create_pipe
from cuprum._process_groups import NEW_GROUP, stop_groups
from cuprum._sources import FileSource, Source, open_source
from cuprum._streams import OutputSink, abandon_reader, consume_stream

TERMINATE_GRACE_SECONDS = 0.5
"""How long a stage's process group gets to exit after SIGTERM before SIGKILL."""

_DRAIN_AFTER_KILL_SECONDS = 2.0
"""How long to wait for pumps and consumers to see EOF after killing stages."""

_STREAM_LIMIT = 2**16
"""asyncio's buffer limit for a hop reader (as for subprocess pipes)."""


_StageT = typ.TypeVar("_StageT", CommandResult, BytesCommandResult)


@dataclasses.dataclass(frozen=True, slots=True)
class PipelineOutcome(typ.Generic[_StageT, OutT]):
    """The outcome of a pipeline.

    Use the concrete :class:`PipelineResult` (text) and
    :class:`BytesPipelineResult` (``text=False``) in annotations.

    Parameters
    ----------
    stages
        One result per stage, in order (only the last has ``stdout``).
    stdout
        The last stage's captured standard output.
    """

    stages: tuple[_StageT, ...]
    stdout: OutT

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


@dataclasses.dataclass(frozen=True, slots=True)
class PipelineResult(PipelineOutcome[CommandResult, str]):
    """A pipeline's outcome with output decoded as UTF-8 text (the default)."""


@dataclasses.dataclass(frozen=True, slots=True)
class BytesPipelineResult(PipelineOutcome[BytesCommandResult, bytes]):
    """A pipeline's outcome with output as undecoded ``bytes`` (``text=False``)."""


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

    @typ.overload
    async def run(
        self, *, text: typ.Literal[True] = ..., **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult: ...
    @typ.overload
    async def run(
        self, *, text: typ.Literal[False], **options: typ.Unpack[RunKwargs]
    ) -> BytesPipelineResult: ...
    @typ.overload
    async def run(
        self, *, text: bool, **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult | BytesPipelineResult: ...

    async def run(
        self, *, text: bool = True, **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult | BytesPipelineResult:
        """Run every stage concurrently and wait for all of them.

        Parameters
        ----------
        text
            Decode captured output as UTF-8 (the default); ``False`` returns
            a :class:`BytesPipelineResult` with undecoded ``bytes``.
        **options
            ``capture``, ``echo``, ``env``, ``cwd``, ``timeout`` and
            ``stdin``, as described by :class:`~cuprum.RunOptions`.

        Returns
        -------
        PipelineResult or BytesPipelineResult
            Every stage's exit status and the captured output.

        Raises
        ------
        TypeError
            An unknown option, or ``stdin`` of an unsupported type (before
            anything is spawned).
        FileNotFoundError
            ``stdin`` names a file that does not exist (before anything is
            spawned).
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
        run_options = RunOptions.from_kwargs(text=text, options=options)
        run = _PipelineRun(self.stages, run_options)
        return await run.execute()

    @typ.overload
    def run_sync(
        self, *, text: typ.Literal[True] = ..., **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult: ...
    @typ.overload
    def run_sync(
        self, *, text: typ.Literal[False], **options: typ.Unpack[RunKwargs]
    ) -> BytesPipelineResult: ...
    @typ.overload
    def run_sync(
        self, *, text: bool, **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult | BytesPipelineResult: ...

    def run_sync(
        self, *, text: bool = True, **options: typ.Unpack[RunKwargs]
    ) -> PipelineResult | BytesPipelineResult:
        """Run from synchronous code; same semantics as :meth:`run`.

        Returns
        -------
        PipelineResult or BytesPipelineResult
            Every stage's exit status and the captured output.
        """
        return asyncio.run(self.run(text=text, **options))


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

    # Set by execute() once the stages are located; read only after that.
    source: Source | None

    def __init__(self, stages: tuple[SafeCmd, ...], options: RunOptions) -> None:
        self.stages = stages
        self.options = options
        self.capture = options.capture
        self.env = _merged_env(options.env)
        self.cwd = _resolve_cwd(options.cwd)
        echo = options.echo
        self.stdout_sink = OutputSink(sys.stdout if echo else None, text=options.text)
        self.stderr_sinks = [
            OutputSink(sys.stderr if echo else None, text=options.text) for _ in stages
        ]
        self.processes: list[asyncio.subprocess.Process] = []
        self.tasks: list[asyncio.Task[typ.Any]] = []
        # Tasks that may wait on a pipe a stray process holds (woken by cancel).
        self.hop_tasks: list[asyncio.Task[int]] = []
        self.hop_readers: list[tuple[asyncio.StreamReader, asyncio.ReadTransport]] = []
        self.sink_reader: tuple[asyncio.StreamReader, asyncio.ReadTransport] | None = None

    def _has_hops(self) -> bool:
        """Whether any byte goes through the pathway (so a backend is needed)."""
        options = self.options
        return len(self.stages) > 1 or options.stdin is not None or options.capture

    async def execute(self) -> PipelineResult | BytesPipelineResult:
        backend = get_stream_backend() if self._has_hops() else None
        executables = [_locate(stage, self.env) for stage in self.stages]
        self.source = open_source(self.options.stdin)
        try:
            try:
                await self._spawn(executables)
                self._start_tasks(backend)
                await self._wait(self.options.timeout)
            except BaseException:
                await self._terminate()
                raise
        finally:
            if isinstance(self.source, FileSource):
                self.source.close()
        return self._result()

    async def _spawn(self, executables: list[str]) -> None:
        last = len(self.stages) - 1
        stderr = asyncio.subprocess.PIPE if self.capture else None
        for index, (stage, executable) in enumerate(zip(self.stages, executables, strict=True)):
            fed = index > 0 or self.source is not None
            stdin = asyncio.subprocess.PIPE if fed else asyncio.subprocess.DEVNULL
            if index < last or self.capture:
                reader = await self._spawn_into_pipe(stage, executable, stdin, stderr)
                if index < last:
                    self.hop_readers.append(reader)
                else:
                    self.sink_reader = reader
                continue
            process = await asyncio.create_subprocess_exec(
                *stage.argv,
                executable=executable,
                stdin=stdin,
                env=self.env,
                cwd=self.cwd,
                process_group=NEW_GROUP,
            )
            self.processes.append(process)

    async def _spawn_into_pipe(
        self, stage: SafeCmd, executable: str, stdin: int, stderr: int | None
    ) -> tuple[asyncio.StreamReader, asyncio.ReadTransport]:
        """Spawn a stage whose stdout feeds a hop, holding that output unread.

        The stage writes into a pipe that cuprum connects itself and pauses at
        once, so nothing is read before the hop's dispatcher decides which
        pump (or consumer) moves the bytes: a fast stage cannot finish into
        asyncio's buffer and deprive the Rust pump of its descriptor.
        """
        read_fd, write_fd = create_pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *stage.argv,
                executable=executable,
                stdin=stdin,
                stdout=write_fd,
                stderr=stderr,
                env=self.env,
                cwd=self.cwd,
                process_group=NEW_GROUP,
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
        return reader, transport

    def _start_tasks(self, backend: StreamBackend | None) -> None:
        create = asyncio.get_running_loop().create_task
        if self.source is not None:
            first = self.processes[0].stdin
            assert first is not None
            self.hop_tasks.append(create(dispatch_source_hop(self.source, first, backend=backend)))
        for (reader, _), downstream in zip(self.hop_readers, self.processes[1:], strict=True):
            assert downstream.stdin is not None
            self.hop_tasks.append(
                create(_pump_stream_dispatch(reader, downstream.stdin, backend=backend))
            )
        self.tasks.extend(self.hop_tasks)
        if self.sink_reader is not None:
            bounded = self.options.timeout is not None
            sink = dispatch_sink_hop(
                self.sink_reader[0], self.stdout_sink, bounded=bounded, backend=backend
            )
            self.tasks.append(create(sink))
        for process, stderr_sink in zip(self.processes, self.stderr_sinks, strict=True):
            if process.stderr is not None:
                self.tasks.append(create(consume_stream(process.stderr, stderr_sink)))
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
                self.stdout_sink.value,
                tuple(sink.value for sink in self.stderr_sinks),
            )

    def _transports(self) -> list[asyncio.ReadTransport]:
        readers = [*self.hop_readers, *([self.sink_reader] if self.sink_reader else [])]
        return [transport for _, transport in readers]

    async def _terminate(self) -> None:
        """Stop every stage's process group (SIGTERM, grace, SIGKILL) and reap."""
        await stop_groups([p.pid for p in self.processes], TERMINATE_GRACE_SECONDS)
        waiters = [asyncio.ensure_future(p.wait()) for p in self.processes]
        outstanding = [*waiters, *self.tasks]
        if outstanding:
            _, leftover = await asyncio.wait(outstanding, timeout=_DRAIN_AFTER_KILL_SECONDS)
            if leftover:
                # Every stage is dead, yet a pipe is still open: a process that
                # left its stage's group (setsid) holds it, and Process.wait()
                # only returns once its pipes close. Stop waiting for that EOF
                # rather than overrun the timeout.
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
        for transport in self._transports():
            transport.close()

    def _release_pipes(self) -> None:
        """Close this side of every pipe, so nothing waits for their EOF."""
        for transport in self._transports():
            transport.close()
        for process in self.processes:
            for reader in (process.stdout, process.stderr):
                if reader is not None:
                    abandon_reader(reader)
            if process.stdin is not None and not process.stdin.is_closing():
                process.stdin.transport.abort()

    def _result(self) -> PipelineResult | BytesPipelineResult:
        last = len(self.stages) - 1
        pairs = list(enumerate(zip(self.stages, self.processes, strict=True)))
        if self.options.text:
            return PipelineResult(
                stages=tuple(
                    CommandResult(
                        program=stage.program,
                        argv=stage.argv,
                        exit_code=typ.cast(int, process.returncode),
                        pid=process.pid,
                        stdout=self.stdout_sink.text if index == last else "",
                        stderr=self.stderr_sinks[index].text,
                    )
                    for index, (stage, process) in pairs
                ),
                stdout=self.stdout_sink.text,
            )
        return BytesPipelineResult(
            stages=tuple(
                BytesCommandResult(
                    program=stage.program,
                    argv=stage.argv,
                    exit_code=typ.cast(int, process.returncode),
                    pid=process.pid,
                    stdout=self.stdout_sink.data if index == last else b"",
                    stderr=self.stderr_sinks[index].data,
                )
                for index, (stage, process) in pairs
            ),
            stdout=self.stdout_sink.data,
        )
