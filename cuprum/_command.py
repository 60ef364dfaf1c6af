"""Safe commands and their results."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import typing as typ

from cuprum._options import RunKwargs
from cuprum._programs import Program

if typ.TYPE_CHECKING:
    from cuprum._pipeline import Pipeline

Argument = str | os.PathLike[str]
"""What a builder accepts as one argument."""


OutT = typ.TypeVar("OutT", str, bytes)
"""The type of captured output: ``str`` (``text=True``) or ``bytes``."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageOutcome(typ.Generic[OutT]):
    """The outcome of one command or one pipeline stage.

    Use the concrete :class:`CommandResult` (text) and
    :class:`BytesCommandResult` (``text=False``) in annotations.

    Parameters
    ----------
    program
        The allowlisted program that ran.
    argv
        The exact argv passed to the process.
    exit_code
        The exit status; negative for death by signal (``-N``).
    pid
        The process id (also the id of the stage's process group).
    stdout
        Captured standard output (empty when not captured, and always empty
        for a stage that is not the last of a pipeline).
    stderr
        Captured standard error (empty when not captured).
    """

    program: Program
    argv: tuple[str, ...]
    exit_code: int
    pid: int
    stdout: OutT
    stderr: OutT

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.exit_code == 0


@dataclasses.dataclass(frozen=True, slots=True)
class CommandResult(StageOutcome[str]):
    """A command's outcome with its output decoded as UTF-8 text (the default)."""


@dataclasses.dataclass(frozen=True, slots=True)
class BytesCommandResult(StageOutcome[bytes]):
    """A command's outcome with its output as undecoded ``bytes`` (``text=False``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SafeCmd:
    """An allowlisted program with its argv, ready to run (never via a shell).

    Build one with ``sh.make(PROGRAM)(*args)``.
    """

    program: Program
    argv: tuple[str, ...]

    def __or__(self, other: SafeCmd | Pipeline) -> Pipeline:
        """Pipe this command's stdout into ``other``'s stdin (or first stage's)."""
        from cuprum._pipeline import Pipeline

        return Pipeline((self,)) | other

    @typ.overload
    async def run(
        self, *, text: typ.Literal[True] = ..., **options: typ.Unpack[RunKwargs]
    ) -> CommandResult: ...
    @typ.overload
    async def run(
        self, *, text: typ.Literal[False], **options: typ.Unpack[RunKwargs]
    ) -> BytesCommandResult: ...
    @typ.overload
    async def run(
        self, *, text: bool, **options: typ.Unpack[RunKwargs]
    ) -> CommandResult | BytesCommandResult: ...

    async def run(
        self, *, text: bool = True, **options: typ.Unpack[RunKwargs]
    ) -> CommandResult | BytesCommandResult:
        """Run the command and wait for it.

        Parameters
        ----------
        text
            Decode captured output as UTF-8 (the default); ``False`` returns
            a :class:`BytesCommandResult` with undecoded ``bytes``.
        **options
            ``capture``, ``echo``, ``env``, ``cwd``, ``timeout`` and
            ``stdin``, as described by :class:`~cuprum.RunOptions`.

        Returns
        -------
        CommandResult or BytesCommandResult
            The exit status and captured output.
        """
        from cuprum._pipeline import Pipeline

        result = await Pipeline((self,)).run(text=text, **options)
        return result.stages[0]

    @typ.overload
    def run_sync(
        self, *, text: typ.Literal[True] = ..., **options: typ.Unpack[RunKwargs]
    ) -> CommandResult: ...
    @typ.overload
    def run_sync(
        self, *, text: typ.Literal[False], **options: typ.Unpack[RunKwargs]
    ) -> BytesCommandResult: ...
    @typ.overload
    def run_sync(
        self, *, text: bool, **options: typ.Unpack[RunKwargs]
    ) -> CommandResult | BytesCommandResult: ...

    def run_sync(
        self, *, text: bool = True, **options: typ.Unpack[RunKwargs]
    ) -> CommandResult | BytesCommandResult:
        """Run the command from synchronous code; same semantics as :meth:`run`.

        Returns
        -------
        CommandResult or BytesCommandResult
            The exit status and captured output.
        """
        return asyncio.run(self.run(text=text, **options))
