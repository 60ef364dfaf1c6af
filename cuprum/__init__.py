"""cuprum: typed, allowlisted, async-first subprocess execution.

Pipelines move bytes between stages through a pluggable stream backend: a
pure-Python asyncio pump, or an optional Rust pump (``splice(2)`` on Linux).
"""

from __future__ import annotations

from cuprum import sh
from cuprum._backend import StreamBackend, get_stream_backend, is_rust_available
from cuprum._command import BytesCommandResult, CommandResult, SafeCmd
from cuprum._errors import (
    InvalidWorkingDirectoryError,
    ProgramNotFoundError,
    TimeoutExpired,
)
from cuprum._options import RunKwargs, RunOptions, StdinInput
from cuprum._pipeline import BytesPipelineResult, Pipeline, PipelineResult
from cuprum._programs import (
    CAT,
    DEFAULT_CATALOGUE,
    ECHO,
    FALSE,
    GREP,
    HEAD,
    PRINTF,
    SLEEP,
    SORT,
    TAIL,
    TR,
    TRUE,
    WC,
    YES,
    Program,
    ProgramCatalogue,
    ProgramEntry,
    UnknownProgramError,
)
from cuprum._version import __version__

__all__ = [
    "CAT",
    "DEFAULT_CATALOGUE",
    "ECHO",
    "FALSE",
    "GREP",
    "HEAD",
    "PRINTF",
    "SLEEP",
    "SORT",
    "TAIL",
    "TR",
    "TRUE",
    "WC",
    "YES",
    "BytesCommandResult",
    "BytesPipelineResult",
    "CommandResult",
    "InvalidWorkingDirectoryError",
    "Pipeline",
    "PipelineResult",
    "Program",
    "ProgramCatalogue",
    "ProgramEntry",
    "ProgramNotFoundError",
    "RunKwargs",
    "RunOptions",
    "SafeCmd",
    "StdinInput",
    "StreamBackend",
    "TimeoutExpired",
    "UnknownProgramError",
    "__version__",
    "get_stream_backend",
    "is_rust_available",
    "sh",
]
