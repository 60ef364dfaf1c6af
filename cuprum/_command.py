"""Safe commands and their results."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import typing as typ
from collections.abc import Mapping

from cuprum._programs import Program

if typ.TYPE_CHECKING:
    from cuprum._pipeline import Pipeline

Argument = str | os.PathLike[str]
"""What a builder accepts as one argument."""


@dataclasses.dataclass(frozen=True, slots=True)
class CommandResult:
    """The outcome of one command or one pipeline stage.

    Parameters
    ----------
    program
        The allowlisted program that ran.
    argv
        The exact argv passed to the process.
    exit_code
        The exit status; negative for death by signal (``-N``).
    pid
        The process id.
    stdout
        Decoded standard output (empty when not captured, and always empty
        for a stage that is not the last of a pipeline).
    stderr
        Decoded standard error (empty when not captured).
    """

    program: Program
    argv: tuple[str, ...]
    exit_code: int
    pid: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether the command exited with status 0."""
        return self.exit_code == 0


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

    async def run(
        self,
        *,
        capture: bool = True,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run the command and wait for it.

        Parameters
        ----------
        capture
            Capture stdout and stderr (otherwise they are inherited).
        echo
            Also copy captured output to this process's stdout/stderr as it
            arrives.
        env
            Variables overlaid on this process's environment.
        cwd
            Working directory for the process.
        timeout
            Seconds before the process is terminated and
            :class:`~cuprum.TimeoutExpired` is raised.

        Returns
        -------
        CommandResult
            The exit status and captured output.
        """
        from cuprum._pipeline import Pipeline

        result = await Pipeline((self,)).run(
            capture=capture, echo=echo, env=env, cwd=cwd, timeout=timeout
        )
        return result.stages[0]

    def run_sync(
        self,
        *,
        capture: bool = True,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run the command from synchronous code; same semantics as :meth:`run`.

        Returns
        -------
        CommandResult
            The exit status and captured output.
        """
        return asyncio.run(self.run(capture=capture, echo=echo, env=env, cwd=cwd, timeout=timeout))
