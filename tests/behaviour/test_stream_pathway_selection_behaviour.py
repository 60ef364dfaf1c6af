"""Steps for features/stream_pathway_selection.feature."""

from __future__ import annotations

import pathlib
import sys
import warnings
from collections.abc import Iterator

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cuprum import PRINTF, TR, sh
from cuprum._backend import (
    BACKEND_ENV_VAR,
    NATIVE_MODULE_NAME,
    _check_rust_available,
    get_stream_backend,
)
from cuprum._pipeline_streams import HopPump, simulate_unusable_descriptors
from tests.helpers.native import install_stand_in, make_native_absent, native_module
from tests.helpers.pathway import (
    ObservedRun,
    child_pids,
    run_hash_pipeline,
    run_text_pipeline,
    write_payload,
)

scenarios("stream_pathway_selection.feature")


class World:
    """What a scenario has done and seen so far."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        self.tmp_path = tmp_path
        self.fallback_forced = False
        self.run: ObservedRun | None = None
        self.caught_warnings: list[warnings.WarningMessage] = []
        self.error: BaseException | None = None
        self.children_before: set[int] = set()


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    return World(tmp_path)


@given("the native extension is available")
def extension_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the compiled extension when it is built, else the stand-in.

    CI runs this suite once with the extension built (so these scenarios
    drive the real Rust pump) and once without (the pure-Python stand-in).
    """
    if native_module() is not None:
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
        _check_rust_available.cache_clear()
    else:
        install_stand_in(monkeypatch)


@given("the native extension is not installed")
def extension_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    make_native_absent(monkeypatch)


@given(parsers.parse('CUPRUM_STREAM_BACKEND is "{value}"'))
def backend_is(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)


@given("hop descriptors cannot be extracted")
def descriptors_unusable(world: World) -> None:
    world.fallback_forced = True


@given("a pipeline has run once")
def ran_once() -> None:
    result, _ = run_text_pipeline()
    assert result.ok


@when(parsers.parse('CUPRUM_STREAM_BACKEND changes to "{value}"'))
def backend_changes(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)


@when("the backend caches are cleared")
def caches_cleared() -> None:
    get_stream_backend.cache_clear()
    _check_rust_available.cache_clear()


def _fallback_context(world: World) -> Iterator[None]:
    if world.fallback_forced:
        with simulate_unusable_descriptors():
            yield
    else:
        yield


@when("I pipe a 1 MiB payload through a 3-stage pipeline")
def pipe_payload(world: World) -> None:
    payload = write_payload(world.tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in _fallback_context(world):
            world.run = run_hash_pipeline(payload, stages=3)
    world.caught_warnings = list(caught)


@when("I try to run a 2-stage pipeline")
def try_pipeline(world: World) -> None:
    world.children_before = child_pids()
    pipeline = sh.make(PRINTF)("x") | sh.make(TR)("x", "y")
    try:
        pipeline.run_sync()
    except (ImportError, ValueError) as exc:
        world.error = exc


@then(parsers.parse("every hop used the {pump} pump"))
def every_hop_used(world: World, pump: str) -> None:
    assert world.run is not None
    assert len(world.run.hops) == 2
    assert [hop.pump for hop in world.run.hops] == [HopPump(pump)] * 2
    assert not any(hop.forced_fallback for hop in world.run.hops)


@then("every hop used the python pump as a forced fallback")
def every_hop_fell_back(world: World) -> None:
    assert world.run is not None
    assert [(hop.pump, hop.forced_fallback) for hop in world.run.hops] == [
        (HopPump.PYTHON, True)
    ] * 2


@then("the output is byte-exact and every stage succeeded")
def output_exact(world: World) -> None:
    assert world.run is not None
    assert world.run.digest == world.run.expected_digest
    assert [stage.exit_code for stage in world.run.result.stages] == [0, 0, 0]


@then("no warning was issued")
def no_warning(world: World) -> None:
    assert [str(w.message) for w in world.caught_warnings] == []


@then("an ImportError names CUPRUM_STREAM_BACKEND and the missing extension")
def import_error_raised(world: World) -> None:
    assert isinstance(world.error, ImportError)
    assert "CUPRUM_STREAM_BACKEND=rust" in str(world.error)
    assert NATIVE_MODULE_NAME in str(world.error)


@then(parsers.parse('a ValueError quotes "{value}" and lists the valid values'))
def value_error_raised(world: World, value: str) -> None:
    assert isinstance(world.error, ValueError)
    message = str(world.error)
    assert repr(value) in message
    assert all(v in message for v in ("'auto'", "'rust'", "'python'"))


@then("no process is left running")
def nothing_running(world: World) -> None:
    assert child_pids() == world.children_before
