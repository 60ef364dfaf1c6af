"""Builders for safe commands: ``sh.make(PROGRAM)(*args)``."""

from __future__ import annotations

import os

from cuprum._command import Argument, SafeCmd
from cuprum._programs import DEFAULT_CATALOGUE, Program, ProgramCatalogue


class CommandBuilder:
    """Builds :class:`SafeCmd` objects for one allowlisted program.

    Parameters
    ----------
    program
        The allowlisted program.
    """

    def __init__(self, program: Program) -> None:
        self.program = program

    def __call__(self, *args: Argument) -> SafeCmd:
        """Return a command whose argv is the program followed by ``args``.

        Parameters
        ----------
        *args
            Arguments passed verbatim (no shell, no splitting, no expansion).

        Returns
        -------
        SafeCmd
            The command, ready to run or pipe.

        Raises
        ------
        TypeError
            If an argument is neither ``str`` nor ``os.PathLike[str]``.
        """
        argv: list[str] = [self.program]
        for position, arg in enumerate(args, start=1):
            value: object = os.fspath(arg) if isinstance(arg, os.PathLike) else arg
            if not isinstance(value, str):
                msg = (
                    f"argument {position} to {self.program!r} must be str or "
                    f"os.PathLike[str], got {type(arg).__name__}"
                )
                raise TypeError(msg)
            argv.append(value)
        return SafeCmd(program=self.program, argv=tuple(argv))


def make(
    program: Program | str, *, catalogue: ProgramCatalogue = DEFAULT_CATALOGUE
) -> CommandBuilder:
    """Return a builder for ``program`` after checking it is allowlisted.

    Parameters
    ----------
    program
        The program to run.
    catalogue
        The allowlist to check against.

    Returns
    -------
    CommandBuilder
        Call it with arguments to get a :class:`SafeCmd`.

    Raises
    ------
    UnknownProgramError
        If ``program`` is not in ``catalogue`` (nothing is spawned).
    """
    entry = catalogue.lookup(program)
    return CommandBuilder(entry.program)
