"""Steps for features/hop_kinds.feature."""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import typing as typ

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cuprum import CAT, Pipeline, sh
from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, _check_rust_available
from cuprum._pipeline_streams import (
    HopKind,
    HopPump,
    HopRecord,
    observe_hops,
    simulate_unusable_descriptors,
)
from tests.helpers.groups import read_pids
from tests.helpers.native import install_stand_in, make_native_absent, native_module
from tests.helpers.processes import child_processes, kill_quietly

scenarios("hop_kinds.feature")

MIB = 1024 * 1024 + 17


class World:
    """What a scenario has done and seen so far."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        self.tmp_path = tmp_path
        self.unusable = False
        self.payload = os.urandom(MIB)
        self.expected: str | bytes = b""
        self.result: typ.Any = None
        self.hops: list[HopRecord] = []
        self.error: BaseException | None = None
        self.mark = tmp_path / "mark"


@pytest.fixture
def world(tmp_path: pathlib.Path) -> typ.Iterator[World]:
    state = World(tmp_path)
    yield state
    with contextlib.suppress(OSError, ValueError):
        for pid in read_pids(state.mark)[:2]:
            kill_quietly(pid)


@given("the native extension is available")
def extension_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled extension when it is built, else the stand-in."""
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


@given(parsers.parse("hop descriptors are {state}"))
def descriptors(world: World, state: str) -> None:
    world.unusable = state == "unusable"


@when(parsers.parse("I run {stages} on a 1 MiB {source} capturing {capture}"))
def run_cat(
    world: World, stages: str, source: str, capture: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = world.tmp_path / "payload.bin"
    path.write_bytes(world.payload)
    stdin = path if source == "file" else world.payload
    text = capture != "all bytes"
    # A bounded run fails fast if a hop hangs (5 s: well over a healthy
    # run, under the mutation kit's per-test limit of 10 s and more, so a
    # hung hop is a failing test, not a hang); "all ..." runs need no
    # timeout, so that the native consumer may serve the sink.
    by_capture: dict[str, dict[str, typ.Any]] = {
        "text": {"timeout": 5.0},
        "echoed text": {"echo": True},
        "with timeout": {"timeout": 5.0},
    }
    options = by_capture.get(capture, {})
    cat = sh.make(CAT)
    blocker = simulate_unusable_descriptors() if world.unusable else contextlib.nullcontext()
    with blocker, observe_hops(list(HopKind)) as hops:
        pipeline = Pipeline(tuple(cat() for _ in stages.split("-")))
        world.result = pipeline.run_sync(stdin=stdin, text=text, **options)
    capsys.readouterr()  # echoed output is not under test here
    world.hops = list(hops)
    world.expected = world.payload.decode("utf-8", errors="replace") if text else world.payload


@then(parsers.parse("the {kind} hop used the {pump} pump, forced fallback {forced}"))
def hop_used(world: World, kind: str, pump: str, forced: str) -> None:
    [hop] = [hop for hop in world.hops if hop.kind is HopKind(kind)]
    assert (hop.pump, hop.forced_fallback) == (HopPump(pump), forced == "yes")


@then("the captured output is byte-exact")
def byte_exact(world: World) -> None:
    assert world.result.ok
    assert world.result.stdout == world.expected


@when("I try to run cat on a small buffer")
def try_small(world: World) -> None:
    with pytest.raises(ImportError) as caught:
        sh.make(CAT)().run_sync(stdin=b"small")
    world.error = caught.value


@then("an ImportError names CUPRUM_STREAM_BACKEND")
def import_error(world: World) -> None:
    assert BACKEND_ENV_VAR in str(world.error)


@then("no process was started")
def nothing_started() -> None:
    assert child_processes() == {}
