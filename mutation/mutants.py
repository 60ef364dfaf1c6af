"""The seam between discovery and execution: a mutant, wherever it came from.

A mutant source (mutmut's generator, the must-kill catalogue, later the
kit's own generated operators or cargo-mutants) turns the project into a
list of :class:`Mutant`. The executor needs only what is here: which tests
to run (chosen from the mutated function's coverage), whether to stop at the
first killer, and an :class:`Activation` saying how the mutant is switched
on inside a forked pytest worker.
"""

from __future__ import annotations

import dataclasses
import typing as typ

from mutation.results import MutantResult, Origin

ActivationKind = typ.Literal["env", "code", "file", "none"]


@dataclasses.dataclass(frozen=True)
class Activation:
    """How a worker switches a mutant on.

    ``env``: mutmut's trampolined copy; ``name`` goes into
    ``MUTANT_UNDER_TEST``. ``code``: ``source`` is the whole mutated module
    (``module`` at ``path``); the worker compiles it and swaps the code of
    ``function`` into the live function object, so no copy is written.
    ``file``: ``source`` is written over ``path`` in a scratch copy of the
    pristine project and the mutant gets a session of its own there (a
    change outside a function body, such as a decorator's argument, or a
    source whose mutants cannot be switched on in-process). ``none``: the
    workspace is already mutated (how a ``file`` mutant's session sees it).
    """

    kind: ActivationKind
    name: str = ""
    module: str = ""
    path: str = ""
    function: str = ""
    source: str = ""

    def to_json(self) -> dict[str, str]:
        """Return the plain mapping the executor plugin reads."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Mutant:
    """One mutant to execute.

    Parameters
    ----------
    result
        The result record, filled in with status and killers by the
        executor (id, origin, file, function, lines, diff are set here).
    activation
        How a worker switches it on.
    every_killer
        Run all covering tests (record every killer) instead of stopping at
        the first; the catalogue's mutants and ``--matrix`` runs.
    """

    result: MutantResult
    activation: Activation
    every_killer: bool = False

    @property
    def id(self) -> str:
        """The mutant's id (mutmut's name or the catalogue entry's id)."""
        return self.result.id

    @property
    def origin(self) -> Origin:
        """Which source made the mutant."""
        return self.result.origin


def module_name(file: str) -> str:
    """Return the dotted module name of a project-relative ``.py`` path."""
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
