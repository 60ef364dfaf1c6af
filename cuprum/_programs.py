"""Allowlisted programs: the catalogue that decides what cuprum may run."""

from __future__ import annotations

import dataclasses
import typing as typ
from collections.abc import Iterable, Mapping

Program = typ.NewType("Program", str)
"""The name of an executable that a catalogue allows (looked up on ``PATH``)."""


class UnknownProgramError(LookupError):
    """A program is not in the catalogue; raised before anything is spawned."""


@dataclasses.dataclass(frozen=True, slots=True)
class ProgramEntry:
    """Metadata recorded for one allowlisted program.

    Parameters
    ----------
    program
        The allowlisted executable name.
    project
        The project that owns the program (free text, for audits).
    notes
        Why the program is allowed, or how it is expected to be used.
    """

    program: Program
    project: str
    notes: str = ""


class ProgramCatalogue:
    """An allowlist of programs with per-program project metadata.

    Parameters
    ----------
    entries
        The allowed programs. Duplicate program names are rejected.
    """

    def __init__(self, entries: Iterable[ProgramEntry]) -> None:
        table: dict[Program, ProgramEntry] = {}
        for entry in entries:
            if not entry.program or entry.program.strip() != entry.program:
                msg = f"invalid program name {entry.program!r} in catalogue"
                raise ValueError(msg)
            if entry.program in table:
                msg = f"program {entry.program!r} is listed twice in the catalogue"
                raise ValueError(msg)
            table[entry.program] = entry
        self._entries: Mapping[Program, ProgramEntry] = table

    def __contains__(self, program: object) -> bool:
        return program in self._entries

    def __iter__(self) -> typ.Iterator[Program]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, program: str) -> ProgramEntry:
        """Return the entry for ``program``.

        Parameters
        ----------
        program
            The program name to look up.

        Returns
        -------
        ProgramEntry
            The catalogue entry.

        Raises
        ------
        UnknownProgramError
            If the program is not allowlisted.
        """
        try:
            return self._entries[Program(program)]
        except KeyError:
            allowed = ", ".join(sorted(self._entries))
            msg = (
                f"program {program!r} is not in the catalogue; allowed programs: "
                f"{allowed}. Add a ProgramEntry to a ProgramCatalogue and pass it "
                "as catalogue= to sh.make() to allow it."
            )
            raise UnknownProgramError(msg) from None


ECHO = Program("echo")
CAT = Program("cat")
HEAD = Program("head")
TAIL = Program("tail")
WC = Program("wc")
TR = Program("tr")
SORT = Program("sort")
GREP = Program("grep")
PRINTF = Program("printf")
TRUE = Program("true")
FALSE = Program("false")
SLEEP = Program("sleep")
YES = Program("yes")

DEFAULT_CATALOGUE = ProgramCatalogue(
    ProgramEntry(program, project="coreutils", notes="common text plumbing")
    for program in (
        ECHO,
        CAT,
        HEAD,
        TAIL,
        WC,
        TR,
        SORT,
        GREP,
        PRINTF,
        TRUE,
        FALSE,
        SLEEP,
        YES,
    )
)
"""The catalogue used when ``sh.make`` is given none: common text tools."""
