"""The options every run accepts, defined once for commands and pipelines.

:meth:`SafeCmd.run <cuprum.SafeCmd.run>`, :meth:`Pipeline.run
<cuprum.Pipeline.run>` and their ``run_sync`` variants all take the same
keyword arguments. They are declared here once: :class:`RunKwargs` types the
keywords (``**options: Unpack[RunKwargs]``) and :class:`RunOptions` is the
frozen value the engine receives. ``text`` is the one keyword the methods
spell out themselves, because their return type depends on it.
"""

from __future__ import annotations

import dataclasses
import os
import typing as typ
from collections.abc import AsyncIterable, Mapping

StdinInput: typ.TypeAlias = (
    bytes
    | bytearray
    | memoryview
    | str
    | os.PathLike[str]
    | int
    | typ.BinaryIO
    | AsyncIterable[bytes]
)
"""What ``stdin=`` accepts for the first stage.

``bytes``-like data and ``str`` (encoded as UTF-8) are written from memory; a
path-like object, an open binary file or a raw descriptor (``int``) is a
*file source*; an async iterable yields ``bytes`` chunks.
"""


class RunKwargs(typ.TypedDict, total=False):
    """The keyword arguments shared by every ``run``/``run_sync`` method.

    See :class:`RunOptions` for what each one means.
    """

    capture: bool
    echo: bool
    env: Mapping[str, str] | None
    cwd: str | os.PathLike[str] | None
    timeout: float | None
    stdin: StdinInput | None


@dataclasses.dataclass(frozen=True, slots=True)
class RunOptions:
    """How one command or pipeline runs.

    Parameters
    ----------
    capture
        Capture the last stage's stdout and every stage's stderr (otherwise
        they are inherited from this process).
    echo
        Also copy captured output to this process's stdout/stderr as it
        arrives.
    env
        Variables overlaid on this process's environment.
    cwd
        Working directory for every stage.
    timeout
        Seconds before every stage's process group is terminated and
        :class:`~cuprum.TimeoutExpired` is raised.
    stdin
        Input for the first stage (see :data:`StdinInput`); ``None`` gives it
        ``/dev/null``.
    text
        Return captured output decoded as UTF-8 text (``errors="replace"``);
        ``False`` returns it as undecoded ``bytes``.
    """

    capture: bool = True
    echo: bool = False
    env: Mapping[str, str] | None = None
    cwd: str | os.PathLike[str] | None = None
    timeout: float | None = None
    stdin: StdinInput | None = None
    text: bool = True

    @classmethod
    def from_kwargs(cls, *, text: bool, options: RunKwargs) -> RunOptions:
        """Build the options from a method's keyword arguments.

        Raises
        ------
        TypeError
            If a keyword is not one of the run options.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            valid = ", ".join(sorted(known))
            msg = f"unexpected run option(s) {', '.join(unknown)}; valid options are {valid}"
            raise TypeError(msg)
        return cls(text=text, **options)
