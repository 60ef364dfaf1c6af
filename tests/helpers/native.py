"""Deterministic control of the native extension's availability in tests.

Every pathway test must run on every machine, with or without the compiled
extension, so availability is controlled at one stable seam: the import of
``cuprum._rust_backend_native`` (``sys.modules`` and ``sys.meta_path``, the
standard import machinery). Nothing inside cuprum is patched.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import select
import sys
import types
import typing as typ

from cuprum._backend import NATIVE_MODULE_NAME, _check_rust_available

if typ.TYPE_CHECKING:
    import pytest

PUMP_CHUNK = 65536


def native_module() -> types.ModuleType | None:
    """Return the real compiled extension, or ``None`` if it is not built."""
    saved = sys.modules.pop(NATIVE_MODULE_NAME, None)
    try:
        return importlib.import_module(NATIVE_MODULE_NAME)
    except ModuleNotFoundError:
        return None
    finally:
        if saved is not None:
            sys.modules[NATIVE_MODULE_NAME] = saved


def _wait(fd: int, *, for_write: bool, cancel_fd: int = -1) -> bool:
    """Wait until ``fd`` is ready; return ``False`` if ``cancel_fd`` fired.

    ``cancel_fd`` (when not ``-1``) is watched for readability only, which
    ``select`` also reports for a pipe whose write end was closed. It is
    never read.
    """
    # poll, not select: a process running many pipelines holds descriptors
    # above select's FD_SETSIZE (1024).
    poller = select.poll()
    poller.register(fd, select.POLLOUT if for_write else select.POLLIN)
    if cancel_fd >= 0:
        poller.register(cancel_fd, select.POLLIN)
    ready = {ready_fd for ready_fd, _ in poller.poll()}
    return cancel_fd < 0 or cancel_fd not in ready


def python_stand_in_pump(reader_fd: int, writer_fd: int, /, cancel_fd: int = -1) -> int:
    """Copy ``reader_fd`` to ``writer_fd`` like the native pump, in Python.

    Same contract as ``rust_pump_stream``: works on non-blocking descriptors,
    stops quietly when the downstream reader is gone, closes neither fd.
    When ``cancel_fd`` is not ``-1`` it is checked before every read and in
    every wait; once it is readable (a byte written, or its write end
    closed) the pump returns the bytes written so far, dropping any it had
    read but not yet written. ``cancel_fd`` is never read or closed.
    """
    if cancel_fd < -1:
        msg = (
            "cancel_fd must be -1 (no cancellation) or a non-negative file "
            f"descriptor, got {cancel_fd}"
        )
        raise ValueError(msg)
    moved = 0
    while True:
        if cancel_fd >= 0 and not _wait(reader_fd, for_write=False, cancel_fd=cancel_fd):
            return moved
        try:
            chunk = os.read(reader_fd, PUMP_CHUNK)
        except BlockingIOError:
            if not _wait(reader_fd, for_write=False, cancel_fd=cancel_fd):
                return moved
            continue
        if not chunk:
            return moved
        view = memoryview(chunk)
        while view:
            try:
                written = os.write(writer_fd, view)
            except BlockingIOError:
                if not _wait(writer_fd, for_write=True, cancel_fd=cancel_fd):
                    return moved
                continue
            except BrokenPipeError:
                return moved
            view = view[written:]
            moved += written


class StandInNative(types.ModuleType):
    """A pure-Python module with the native extension's interface.

    Lets the Rust *pathway* (descriptor hand-over, flushing, thread off-load)
    run on machines without the compiled extension. ``calls`` counts pumps.
    """

    def __init__(self, *, available: bool = True) -> None:
        super().__init__(NATIVE_MODULE_NAME)
        self.available = available
        self.calls = 0
        self.fail_after: int | None = None

    def is_available(self) -> bool:
        return self.available

    def rust_pump_stream(
        self,
        reader_fd: int,
        writer_fd: int,
        buffer_size: int = PUMP_CHUNK,
        cancel_fd: int = -1,
    ) -> int:
        del buffer_size
        self.calls += 1
        if self.fail_after is not None:
            os.read(reader_fd, self.fail_after)
            raise OSError(5, "stand-in pump failed mid-stream")
        return python_stand_in_pump(reader_fd, writer_fd, cancel_fd=cancel_fd)


BROKEN_BUILD_ERROR = ImportError(
    f"{NATIVE_MODULE_NAME}: undefined symbol: PyInit_broken (simulated)",
    name=NATIVE_MODULE_NAME,
)
"""What importing a badly built extension raises."""


class FailingFinder(importlib.abc.MetaPathFinder):
    """Finds the native module and fails to load it with ``error``."""

    def __init__(self, error: ImportError = BROKEN_BUILD_ERROR) -> None:
        self.error = error

    def find_spec(
        self,
        fullname: str,
        path: typ.Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        del path, target
        if fullname != NATIVE_MODULE_NAME:
            return None
        raise self.error


def make_native_failing(
    monkeypatch: pytest.MonkeyPatch, error: ImportError = BROKEN_BUILD_ERROR
) -> None:
    """Make the extension present but failing to import with ``error``."""
    monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
    monkeypatch.setattr(sys, "meta_path", [FailingFinder(error), *sys.meta_path])
    _check_rust_available.cache_clear()


def make_native_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the extension's import fail as if it were not installed."""
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, None)
    _check_rust_available.cache_clear()


def make_native_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the extension present but failing to import, like a bad build."""
    make_native_failing(monkeypatch)


def install_stand_in(monkeypatch: pytest.MonkeyPatch, *, available: bool = True) -> StandInNative:
    """Install the pure-Python stand-in as the native module."""
    module = StandInNative(available=available)
    monkeypatch.setitem(sys.modules, NATIVE_MODULE_NAME, module)
    _check_rust_available.cache_clear()
    return module
