"""Stream backend selection: which pump moves bytes between pipeline stages.

The choice comes from the ``CUPRUM_STREAM_BACKEND`` environment variable:

==========  =================================================================
value       result
==========  =================================================================
unset, ""   same as ``auto``
``auto``    ``RUST`` when the native extension imports and reports itself
            available, otherwise ``PYTHON`` (never raises for a missing
            extension; a *broken* extension is reported with a warning)
``rust``    ``RUST`` when available, otherwise ``ImportError``
``python``  ``PYTHON``, without probing for the extension
other       ``ValueError`` quoting the value and listing the valid ones
==========  =================================================================

Values are matched after stripping whitespace and ignoring case.

The extension ships in its own distribution, ``cuprum-rust-backend``
(``pip install "cuprum[rust]"``). When that distribution is installed, its
version must equal cuprum's: a mismatched pump counts as broken (a warning
under ``auto``, the ``ImportError`` under ``rust``). An extension without
distribution metadata was built into a source checkout by ``make native``,
from the same tree, and is accepted as it is.

The decision logic lives in small undecorated functions (parse, probe,
resolve) so that mutation testing can reach it; the two cached entry points,
:func:`get_stream_backend` and :func:`_check_rust_available`, are thin
wrappers whose behaviour is guarded by the kit's catalogue mutants instead.
Both caches are cleared with ``.cache_clear()``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Callable, Mapping

from cuprum._version import __version__

BACKEND_ENV_VAR = "CUPRUM_STREAM_BACKEND"
NATIVE_MODULE_NAME = "cuprum._rust_backend_native"
NATIVE_DISTRIBUTION = "cuprum-rust-backend"
BUILD_HINT = (
    f'install it with `pip install "cuprum[rust]=={__version__}"` (in a source '
    "checkout, build it with `make develop`, which needs cargo and maturin)"
)


class StreamBackend(enum.Enum):
    """The stream backends a pipeline hop can be routed through."""

    AUTO = "auto"
    RUST = "rust"
    PYTHON = "python"


VALID_BACKEND_VALUES: tuple[str, ...] = tuple(member.value for member in StreamBackend)


@dataclasses.dataclass(frozen=True, slots=True)
class RustProbe:
    """What probing for the native extension found.

    Parameters
    ----------
    available
        Whether the extension imported and reported itself available.
    reason
        Why it is unavailable (``None`` when available).
    broken
        ``True`` when the extension is present but failed in a way other than
        being absent; such failures are reported, never hidden.
    """

    available: bool
    reason: str | None = None
    broken: bool = False


def _parse_backend_value(raw: str | None) -> StreamBackend:
    """Turn the raw environment value into a :class:`StreamBackend`.

    Parameters
    ----------
    raw
        The value of ``CUPRUM_STREAM_BACKEND`` or ``None`` when unset.

    Returns
    -------
    StreamBackend
        ``AUTO`` for an unset or blank value, otherwise the named backend.

    Raises
    ------
    ValueError
        If the value names no backend.
    """
    if raw is None:
        return StreamBackend.AUTO
    normalised = raw.strip().lower()
    if normalised == "":
        return StreamBackend.AUTO
    for member in StreamBackend:
        if member.value == normalised:
            return member
    valid = ", ".join(repr(value) for value in VALID_BACKEND_VALUES)
    msg = (
        f"{BACKEND_ENV_VAR}={raw!r} is not a valid stream backend; valid values "
        f"are {valid} (case and surrounding whitespace are ignored). Unset it "
        "to let cuprum choose automatically."
    )
    raise ValueError(msg)


def _installed_native_version() -> str | None:
    """Return the installed native distribution's version, if there is one.

    Returns
    -------
    str | None
        The version recorded in ``cuprum-rust-backend``'s metadata, or
        ``None`` when no such distribution is installed (an extension built
        into a source checkout has no metadata).
    """
    try:
        return importlib.metadata.version(NATIVE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def _version_mismatch_reason(installed: str) -> str:
    """Explain a native distribution whose version is not cuprum's."""
    return (
        f"its version does not match cuprum's: {NATIVE_DISTRIBUTION} {installed} "
        f"is installed but cuprum is {__version__}; install the matching pump with "
        f'`pip install "{NATIVE_DISTRIBUTION}=={__version__}"` or uninstall it'
    )


def _probe_rust_extension() -> RustProbe:
    """Import the native extension and ask it whether it is usable.

    Returns
    -------
    RustProbe
        ``available=True`` only when the module imports, its distribution
        (if installed as one) has cuprum's version and its ``is_available()``
        returns true. A module that is simply absent is unavailable but not
        broken; any other failure, a version mismatch included, is ``broken``.
    """
    try:
        module = importlib.import_module(NATIVE_MODULE_NAME)
    except ModuleNotFoundError as exc:
        if exc.name == NATIVE_MODULE_NAME:
            return RustProbe(available=False, reason=f"the module {NATIVE_MODULE_NAME} is absent")
        return RustProbe(
            available=False,
            reason=f"importing {NATIVE_MODULE_NAME} failed: {exc}",
            broken=True,
        )
    except ImportError as exc:
        return RustProbe(
            available=False,
            reason=f"importing {NATIVE_MODULE_NAME} failed: {exc}",
            broken=True,
        )
    # Checked before calling into the module: a pump of another version may
    # not keep the interface this cuprum calls.
    installed = _installed_native_version()
    if installed is not None and installed != __version__:
        return RustProbe(available=False, reason=_version_mismatch_reason(installed), broken=True)
    try:
        reported = module.is_available()
    except Exception as exc:
        return RustProbe(
            available=False,
            reason=f"{NATIVE_MODULE_NAME}.is_available() raised {exc!r}",
            broken=True,
        )
    if reported is True:
        return RustProbe(available=True)
    return RustProbe(
        available=False,
        reason=f"{NATIVE_MODULE_NAME}.is_available() returned {reported!r}",
    )


def _forced_rust_error(probe: RustProbe) -> ImportError:
    """Build the error raised when ``rust`` is forced but cannot be used."""
    msg = (
        f"{BACKEND_ENV_VAR}=rust requires the native extension "
        f"{NATIVE_MODULE_NAME}, which is unavailable ({probe.reason}); "
        f"{BUILD_HINT}, or set {BACKEND_ENV_VAR}=auto or python to use the "
        "pure-Python pump."
    )
    return ImportError(msg, name=NATIVE_MODULE_NAME)


def _resolve_backend(requested: StreamBackend, probe: Callable[[], RustProbe]) -> StreamBackend:
    """Decide the concrete backend for a requested one.

    Parameters
    ----------
    requested
        What the environment asked for.
    probe
        Called (at most once) to learn whether the extension is usable; not
        called for ``PYTHON``.

    Returns
    -------
    StreamBackend
        ``RUST`` or ``PYTHON``; never ``AUTO``.

    Raises
    ------
    ImportError
        If ``RUST`` is requested and the extension is unavailable.
    """
    if requested is StreamBackend.PYTHON:
        return StreamBackend.PYTHON
    found = probe()
    if found.available:
        return StreamBackend.RUST
    if requested is StreamBackend.RUST:
        raise _forced_rust_error(found)
    if found.broken:
        warnings.warn(
            f"cuprum: using the pure-Python stream pump because the native "
            f"extension is broken: {found.reason}",
            RuntimeWarning,
            # Attributed to this module, so users can filter it with
            # warnings.filterwarnings(..., module="cuprum._backend").
            stacklevel=1,
        )
    return StreamBackend.PYTHON


def _select_backend(environ: Mapping[str, str]) -> StreamBackend:
    """Resolve the backend named by ``environ`` (parse, then resolve)."""
    requested = _parse_backend_value(environ.get(BACKEND_ENV_VAR))
    return _resolve_backend(requested, _check_rust_available)


@functools.lru_cache(maxsize=1)
def _check_rust_available() -> RustProbe:
    """Probe for the native extension once per process (cached)."""
    return _probe_rust_extension()


@functools.lru_cache(maxsize=1)
def get_stream_backend() -> StreamBackend:
    """Return the stream backend selected by ``CUPRUM_STREAM_BACKEND``.

    The result is cached for the life of the process; after changing the
    variable, call ``get_stream_backend.cache_clear()`` (and
    ``_check_rust_available.cache_clear()`` if the extension's presence
    changed) for the new value to take effect.

    Returns
    -------
    StreamBackend
        ``RUST`` or ``PYTHON`` (``AUTO`` is always resolved).

    Raises
    ------
    ValueError
        If the variable holds an unknown value.
    ImportError
        If the variable forces ``rust`` and the extension is unavailable.
    """
    return _select_backend(os.environ)


def is_rust_available() -> bool:
    """Return whether the native stream pump can be used (cached probe).

    Returns
    -------
    bool
        ``True`` when the extension imports and reports itself available.
    """
    return _check_rust_available().available
