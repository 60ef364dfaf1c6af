"""Steps for features/stdin_and_process_groups.feature."""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import typing as typ

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cuprum import HEAD, Pipeline, TimeoutExpired, sh
from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, _check_rust_available
from tests.helpers.groups import SPAWN_DEAF_CHILD, live_members, read_pids, wait_until_gone
from tests.helpers.native import install_stand_in, native_module
from tests.helpers.processes import PYTHON, TEST_CATALOGUE, kill_quietly

scenarios("stdin_and_process_groups.feature")


@given("the native extension is available")
def extension_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled extension when it is built, else the stand-in."""
    if native_module() is not None:
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
        _check_rust_available.cache_clear()
    else:
        install_stand_in(monkeypatch)


@given(parsers.parse('CUPRUM_STREAM_BACKEND is "{value}"'))
def backend_is(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)


class World:
    """What a scenario has done and seen so far."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        self.tmp_path = tmp_path
        self.payload = os.urandom(1024 * 1024)
        self.result: typ.Any = None
        self.mark = tmp_path / "mark"


@pytest.fixture
def world(tmp_path: pathlib.Path) -> typ.Iterator[World]:
    state = World(tmp_path)
    yield state
    with contextlib.suppress(OSError, ValueError):
        for pid in read_pids(state.mark)[:2]:
            kill_quietly(pid)


@when("I run head -c 4 on a 1 MiB file")
def run_head(world: World) -> None:
    path = world.tmp_path / "payload.bin"
    path.write_bytes(world.payload)
    world.result = Pipeline((sh.make(HEAD)("-c", "4"),)).run_sync(
        stdin=path, text=False, timeout=30
    )


@then("the run succeeded with the first 4 bytes")
def head_ok(world: World) -> None:
    assert world.result.ok
    assert world.result.stdout == world.payload[:4]


@given("a stage that starts a background child which ignores SIGTERM")
def deaf_child_stage(world: World) -> None:
    world.result = sh.make(PYTHON, catalogue=TEST_CATALOGUE)(
        "-c", SPAWN_DEAF_CHILD, str(world.mark), "stay"
    )


@when("the run times out")
def times_out(world: World) -> None:
    with pytest.raises(TimeoutExpired):
        world.result.run_sync(timeout=6)


@then("neither the stage nor its child is left running")
def nothing_left(world: World) -> None:
    stage, child, group = read_pids(world.mark)
    assert wait_until_gone([stage, child]) == []
    assert live_members(group) == []
