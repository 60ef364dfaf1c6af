"""Shared fixtures: backend caches, backend selection, native availability.

``CUPRUM_EXPECT_NATIVE`` (set by ``make test-pure``/``make test-native``)
states whether this run must have the compiled extension (``present``) or
must not (``absent``); in a ``present`` run a test skipped for want of the
extension is a failure, so CI cannot pass by skipping the Rust pump.
"""

from __future__ import annotations

import os
import signal
import types
import typing as typ
from collections.abc import Iterator

import pytest

from cuprum._backend import (
    BACKEND_ENV_VAR,
    StreamBackend,
    _check_rust_available,
    get_stream_backend,
)
from tests.helpers.native import (
    StandInNative,
    install_stand_in,
    make_native_absent,
    make_native_broken,
    native_module,
)

NATIVE_MISSING_REASON = "needs the compiled native extension (run `make develop`)"
_EXPECT = os.environ.get("CUPRUM_EXPECT_NATIVE", "")


def pytest_sessionstart(session: pytest.Session) -> None:
    del session
    built = native_module() is not None
    if _EXPECT == "present" and not built:
        pytest.exit("CUPRUM_EXPECT_NATIVE=present but the extension is not built", 3)
    if _EXPECT == "absent" and built:
        pytest.exit("CUPRUM_EXPECT_NATIVE=absent but the extension is built", 3)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    del item, call
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _EXPECT == "present" and report.skipped and "native" in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"skipped in a run that must have the extension: {report.longrepr}"


PER_TEST_LIMIT_SECONDS = int(os.environ.get("CUPRUM_TEST_TIME_LIMIT", "30"))
"""Per-test bound; the mutation kit lowers it inside its mutant runs."""


class TestTookTooLongError(Exception):
    """A test exceeded the per-test limit (a hang became a failure)."""


def _too_long(signum: int, frame: types.FrameType | None) -> None:
    del signum, frame
    msg = f"test exceeded {PER_TEST_LIMIT_SECONDS} s (likely a hung pipeline)"
    raise TestTookTooLongError(msg)


@pytest.fixture(autouse=True)
def per_test_limit() -> Iterator[None]:
    """Turn a hung test into a failure; off under the kit's attribution run,
    which keeps its own per-test timer on the same signal."""
    if "KIT_ATTRIBUTION_PLAN" in os.environ:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(PER_TEST_LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _clear_backend_caches() -> None:
    get_stream_backend.cache_clear()
    _check_rust_available.cache_clear()


@pytest.fixture(autouse=True)
def clear_backend_caches() -> Iterator[None]:
    """Clear both backend caches around every test (no stale selection)."""
    _clear_backend_caches()
    yield
    _clear_backend_caches()


@pytest.fixture
def real_native() -> typ.Any:
    """The compiled extension; skips (or fails in a ``present`` run) without it."""
    module = native_module()
    if module is None:
        pytest.skip(NATIVE_MISSING_REASON)
    return module


@pytest.fixture
def native_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension behaves as not installed."""
    make_native_absent(monkeypatch)


@pytest.fixture
def native_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension is present but fails to import."""
    make_native_broken(monkeypatch)


@pytest.fixture
def stand_in_native(monkeypatch: pytest.MonkeyPatch) -> StandInNative:
    """A pure-Python stand-in for the extension, available on every machine."""
    return install_stand_in(monkeypatch)


@pytest.fixture(params=["python", "rust"])
def stream_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> StreamBackend:
    """Select each backend in turn via ``CUPRUM_STREAM_BACKEND``.

    The ``rust`` case uses the compiled extension and skips without it.
    """
    if request.param == "rust":
        request.getfixturevalue("real_native")
    monkeypatch.setenv(BACKEND_ENV_VAR, request.param)
    _clear_backend_caches()
    return StreamBackend(request.param)
