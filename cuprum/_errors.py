"""Exceptions raised by cuprum when running commands."""

from __future__ import annotations


class TimeoutExpired(TimeoutError):
    """A command or pipeline ran past its timeout and was terminated.

    Parameters
    ----------
    argv
        The argv of every stage, in order.
    timeout
        The timeout, in seconds, that expired.
    stdout
        The last stage's standard output captured before termination:
        ``str``, or ``bytes`` when the run had ``text=False``.
    stderr
        Each stage's standard error captured before termination (``str``,
        or ``bytes`` when the run had ``text=False``).
    """

    def __init__(
        self,
        argv: tuple[tuple[str, ...], ...],
        timeout: float,
        stdout: str | bytes,
        stderr: tuple[str | bytes, ...],
    ) -> None:
        pipeline = " | ".join(" ".join(stage) for stage in argv)
        super().__init__(f"{pipeline!r} timed out after {timeout:g} s")
        self.argv = argv
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr


class ProgramNotFoundError(FileNotFoundError):
    """An allowlisted program has no executable on ``PATH``."""


class InvalidWorkingDirectoryError(NotADirectoryError):
    """The ``cwd`` given to a run does not exist or is not a directory."""
