"""Steps for features/pathway_scale.feature."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pathlib
import sys
import threading

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from cuprum import CAT, Pipeline, PipelineResult, sh
from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, _check_rust_available
from cuprum._pipeline_streams import HopPump, HopRecord, observe_hops
from tests.helpers.native import install_stand_in, native_module
from tests.helpers.pathway import HASH_CATALOGUE, SHA256SUM

scenarios("pathway_scale.feature")

HANG_BOUND = 8.0
"""Seconds a run may take before it counts as stalled (it takes about one)."""

EXECUTOR_BLOCKERS = 64
"""More blocking jobs than the default executor has threads on any machine."""


class World:
    """What a scenario has set up, run and seen."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        self.tmp_path = tmp_path
        self.fill_executor = False
        self.executor_was_full = False
        self.result: PipelineResult | None = None
        self.hops: list[HopRecord] = []
        self.digest = ""


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    return World(tmp_path)


@given("the native extension is available")
def extension_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled extension when built (CI's native run), else the stand-in."""
    if native_module() is not None:
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
        _check_rust_available.cache_clear()
    else:
        install_stand_in(monkeypatch)


@given(parsers.parse('CUPRUM_STREAM_BACKEND is "{value}"'))
def backend_is(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)


@given("blocking work holds every thread of the default executor")
def executor_full(world: World) -> None:
    world.fill_executor = True


async def _run(world: World, pipeline: Pipeline) -> PipelineResult:
    if not world.fill_executor:
        return await pipeline.run(timeout=HANG_BOUND)
    loop = asyncio.get_running_loop()
    release = threading.Event()
    blockers = [loop.run_in_executor(None, release.wait) for _ in range(EXECUTOR_BLOCKERS)]
    queued = loop.run_in_executor(None, lambda: None)
    try:
        result = await pipeline.run(timeout=HANG_BOUND)
        world.executor_was_full = not queued.done()
    finally:
        release.set()
        await asyncio.gather(*blockers, queued)
    return result


@when(parsers.parse("I pipe an {mebibytes:d} MiB payload through a {stages:d}-stage pipeline"))
def pipe_payload(world: World, mebibytes: int, stages: int) -> None:
    data = os.urandom(mebibytes * 1024 * 1024 + 17)
    payload = world.tmp_path / "payload.bin"
    payload.write_bytes(data)
    world.digest = hashlib.sha256(data).hexdigest()
    cat = sh.make(CAT, catalogue=HASH_CATALOGUE)
    commands = (cat(payload), *(cat() for _ in range(stages - 2)))
    pipeline = Pipeline(commands) | sh.make(SHA256SUM, catalogue=HASH_CATALOGUE)()
    with observe_hops() as hops:
        world.result = asyncio.run(_run(world, pipeline))
    world.hops = list(hops)


@then("the output is byte-exact and every stage succeeded")
def byte_exact(world: World) -> None:
    assert world.result is not None
    assert all(stage.exit_code == 0 for stage in world.result.stages)
    assert world.result.stdout.split()[0] == world.digest


@then(parsers.parse("all {count:d} hops used the {pump} pump"))
def hops_used(world: World, count: int, pump: str) -> None:
    assert [hop.pump for hop in world.hops] == [HopPump(pump)] * count


@then("the default executor was still full when the pipeline finished")
def executor_stayed_full(world: World) -> None:
    assert world.executor_was_full
