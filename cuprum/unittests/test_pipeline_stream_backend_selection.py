"""Pathway selection, end to end: real pipelines, observed pumps (4.3.3).

Every test runs on every machine. Availability of the native extension is
controlled at the import seam (see ``tests/helpers/native.py``); where a test
needs a Rust pump it runs once with the pure-Python stand-in (always) and once
with the compiled extension (skipped, with a reason, when it is not built, and
a failure in CI's with-extension run).
"""

from __future__ import annotations

import asyncio
import pathlib
import warnings

import pytest

from cuprum import PRINTF, TR, StreamBackend, sh
from cuprum._backend import BACKEND_ENV_VAR, NATIVE_MODULE_NAME, get_stream_backend
from cuprum._pipeline_streams import (
    HopPump,
    _pump_stream_dispatch,
    observe_hops,
    simulate_unusable_descriptors,
)
from tests.helpers.native import StandInNative
from tests.helpers.pathway import (
    child_pids,
    run_hash_pipeline,
    run_text_pipeline,
    write_payload,
)


@pytest.fixture(params=["stand-in", "compiled"])
def rust_available(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> StandInNative | None:
    """The extension is available: the stand-in, or the real compiled one."""
    if request.param == "compiled":
        request.getfixturevalue("real_native")
        monkeypatch.delitem(__import__("sys").modules, NATIVE_MODULE_NAME, raising=False)
        return None
    stand_in: StandInNative = request.getfixturevalue("stand_in_native")
    return stand_in


@pytest.fixture
def payload(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_payload(tmp_path)


# Scenario 1: python is always the Python pump.


def test_python_selection_uses_python_pump_even_when_rust_is_available(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    run = run_hash_pipeline(payload, stages=4)
    assert run.result.ok
    assert [stage.exit_code for stage in run.result.stages] == [0, 0, 0, 0]
    assert run.digest == run.expected_digest
    assert [(hop.backend, hop.pump, hop.forced_fallback) for hop in run.hops] == [
        (StreamBackend.PYTHON, HopPump.PYTHON, False)
    ] * 3
    assert all(hop.bytes_moved == payload.stat().st_size for hop in run.hops)
    if rust_available is not None:
        assert rust_available.calls == 0


# Scenario 2: auto picks Rust when available, Python (quietly) when not.


def test_auto_with_extension_uses_rust_pump_for_every_hop(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "auto")
    run = run_hash_pipeline(payload, stages=3)
    assert run.result.ok
    assert run.digest == run.expected_digest
    assert [(hop.backend, hop.pump) for hop in run.hops] == [(StreamBackend.RUST, HopPump.RUST)] * 2
    assert all(hop.bytes_moved == payload.stat().st_size for hop in run.hops)
    if rust_available is not None:
        assert rust_available.calls == 2


@pytest.mark.parametrize("value", [None, "", "auto"])
def test_auto_without_extension_uses_python_pump_and_does_not_raise(
    monkeypatch: pytest.MonkeyPatch,
    native_absent: None,
    payload: pathlib.Path,
    value: str | None,
) -> None:
    if value is None:
        monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(BACKEND_ENV_VAR, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = run_hash_pipeline(payload, stages=3)
    assert run.result.ok
    assert run.digest == run.expected_digest
    assert [(hop.backend, hop.pump) for hop in run.hops] == [
        (StreamBackend.PYTHON, HopPump.PYTHON)
    ] * 2


def test_auto_with_broken_extension_warns_and_uses_python_pump(
    monkeypatch: pytest.MonkeyPatch, native_broken: None, payload: pathlib.Path
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "auto")
    with pytest.warns(RuntimeWarning, match="undefined symbol"):
        run = run_hash_pipeline(payload, stages=2)
    assert run.digest == run.expected_digest
    assert [hop.pump for hop in run.hops] == [HopPump.PYTHON]


# Scenario 3: forced fallback when descriptors cannot be extracted.


def test_rust_with_unusable_descriptors_falls_back_without_losing_bytes(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    with simulate_unusable_descriptors():
        run = run_hash_pipeline(payload, stages=3)
    assert run.result.ok
    assert [stage.exit_code for stage in run.result.stages] == [0, 0, 0]
    assert run.digest == run.expected_digest
    assert [(hop.backend, hop.pump, hop.forced_fallback) for hop in run.hops] == [
        (StreamBackend.RUST, HopPump.PYTHON, True)
    ] * 2
    assert all(hop.bytes_moved == payload.stat().st_size for hop in run.hops)
    if rust_available is not None:
        assert rust_available.calls == 0


def test_rust_with_usable_descriptors_is_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    run = run_hash_pipeline(payload, stages=2)
    assert run.digest == run.expected_digest
    assert [(hop.pump, hop.forced_fallback) for hop in run.hops] == [(HopPump.RUST, False)]


def test_unusable_descriptors_end_with_their_block(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
) -> None:
    """The simulated fault is scoped: a pipeline after the block uses the Rust pump."""
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    with simulate_unusable_descriptors():
        pass
    run = run_hash_pipeline(payload, stages=2)
    assert run.digest == run.expected_digest
    assert [(hop.pump, hop.forced_fallback) for hop in run.hops] == [(HopPump.RUST, False)]


def test_dispatch_falls_back_for_a_stream_without_a_descriptor(
    stand_in_native: StandInNative,
) -> None:
    """A reader fed in memory has no descriptor: the hop still completes."""

    async def scenario() -> tuple[bytes, int]:
        import os

        reader = asyncio.StreamReader()
        data = os.urandom(200_000)
        reader.feed_data(data)
        reader.feed_eof()
        read_fd, write_fd = os.pipe()
        loop = asyncio.get_running_loop()
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
        transport, _ = await loop.connect_write_pipe(
            lambda: protocol, os.fdopen(write_fd, "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        collected = bytearray()

        def drain_pipe() -> None:
            while chunk := os.read(read_fd, 65536):
                collected.extend(chunk)
            os.close(read_fd)

        drainer = asyncio.create_task(asyncio.to_thread(drain_pipe))
        try:
            with observe_hops() as hops:
                moved = await asyncio.wait_for(
                    _pump_stream_dispatch(reader, writer, backend=StreamBackend.RUST),
                    5,
                )
        finally:
            writer.close()
        await drainer
        assert [(h.pump, h.forced_fallback) for h in hops] == [(HopPump.PYTHON, True)]
        assert bytes(collected) == data
        return bytes(collected), moved

    received, moved = asyncio.run(scenario())
    assert moved == len(received) == 200_000
    assert stand_in_native.calls == 0


# Scenario 4: forced rust without the extension raises, at execution time.


@pytest.mark.parametrize("availability", ["native_absent", "native_broken"])
def test_forced_rust_without_extension_raises_import_error_at_run(
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    availability: str,
) -> None:
    request.getfixturevalue(availability)
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    pipeline = sh.make(PRINTF)("x") | sh.make(TR)("x", "y")
    before = child_pids()
    with pytest.raises(ImportError) as caught:
        pipeline.run_sync()
    message = str(caught.value)
    assert "CUPRUM_STREAM_BACKEND=rust" in message
    assert NATIVE_MODULE_NAME in message
    assert "make develop" in message
    assert child_pids() == before


def test_forced_rust_import_error_is_not_swallowed_by_dispatch(
    monkeypatch: pytest.MonkeyPatch, native_absent: None
) -> None:
    """Calling the dispatcher directly, the ImportError reaches the caller."""
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")

    async def scenario() -> None:
        reader = asyncio.StreamReader()
        reader.feed_eof()
        await _pump_stream_dispatch(reader, None)  # type: ignore[arg-type]

    with pytest.raises(ImportError, match="CUPRUM_STREAM_BACKEND=rust"):
        asyncio.run(scenario())


def test_rust_pump_failing_mid_stream_propagates_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch,
    stand_in_native: StandInNative,
    payload: pathlib.Path,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    stand_in_native.fail_after = 4096
    before = child_pids()
    with pytest.raises(OSError, match="failed mid-stream"):
        run_hash_pipeline(payload, stages=2)
    assert child_pids() == before


# Scenario 5: normalisation and unknown values.


@pytest.mark.parametrize(
    ("value", "pump"),
    [
        (" RUST ", HopPump.RUST),
        ("Rust\n", HopPump.RUST),
        ("Python", HopPump.PYTHON),
        ("\tPYTHON ", HopPump.PYTHON),
        (" Auto", HopPump.RUST),
    ],
)
def test_values_are_normalised(
    monkeypatch: pytest.MonkeyPatch,
    stand_in_native: StandInNative,
    value: str,
    pump: HopPump,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)
    result, hops = run_text_pipeline()
    assert result.stdout == "PATHWAY\n"
    assert [hop.pump for hop in hops] == [pump]


@pytest.mark.parametrize("value", ["turbo", "rusty", "py", "auto,python"])
def test_unknown_value_raises_value_error_before_spawning(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, value)
    before = child_pids()
    with pytest.raises(ValueError, match="not a valid stream backend") as caught:
        run_text_pipeline()
    message = str(caught.value)
    assert repr(value) in message
    for valid in ("'auto'", "'rust'", "'python'"):
        assert valid in message
    assert child_pids() == before


# Scenario 6: caches. Intended: the selection is cached for the process; a
# changed environment takes effect only after the caches are cleared.


def test_cached_selection_survives_environment_change_until_cleared(
    monkeypatch: pytest.MonkeyPatch, stand_in_native: StandInNative
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    _, first = run_text_pipeline()
    monkeypatch.setenv(BACKEND_ENV_VAR, "rust")
    _, cached = run_text_pipeline()
    get_stream_backend.cache_clear()
    _, refreshed = run_text_pipeline()
    assert [hop.pump for hop in first] == [HopPump.PYTHON]
    assert [hop.pump for hop in cached] == [HopPump.PYTHON]
    assert [hop.pump for hop in refreshed] == [HopPump.RUST]


def test_availability_probe_is_cached_until_cleared(
    monkeypatch: pytest.MonkeyPatch, native_absent: None
) -> None:
    from cuprum._backend import _check_rust_available
    from tests.helpers.native import install_stand_in

    monkeypatch.setenv(BACKEND_ENV_VAR, "auto")
    _, absent = run_text_pipeline()
    stand_in = StandInNative()
    monkeypatch.setitem(__import__("sys").modules, NATIVE_MODULE_NAME, stand_in)
    get_stream_backend.cache_clear()
    _, still_absent = run_text_pipeline()
    _check_rust_available.cache_clear()
    get_stream_backend.cache_clear()
    _, present = run_text_pipeline()
    assert [hop.pump for hop in absent] == [HopPump.PYTHON]
    assert [hop.pump for hop in still_absent] == [HopPump.PYTHON]
    assert [hop.pump for hop in present] == [HopPump.RUST]
    assert install_stand_in is not None


def test_rust_hop_delivers_bytes_asyncio_already_buffered(
    stand_in_native: StandInNative,
) -> None:
    """A reader that has already buffered data loses none of it to the hand-over."""
    import os

    async def scenario() -> tuple[bytes, bytes, int]:
        loop = asyncio.get_running_loop()
        up_read, up_write = os.pipe()
        down_read, down_write = os.pipe()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader),
            os.fdopen(up_read, "rb", buffering=0),
        )
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
        transport, _ = await loop.connect_write_pipe(
            lambda: protocol, os.fdopen(down_write, "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        head = os.urandom(30_000)
        tail = os.urandom(300_000)
        os.write(up_write, head)
        while len(getattr(reader, "_buffer", b"")) < len(head):
            await asyncio.sleep(0.01)
        collected = bytearray()

        def feed_tail() -> None:
            view = memoryview(tail)
            while view:
                view = view[os.write(up_write, view[:65536]) :]
            os.close(up_write)

        def drain() -> None:
            while chunk := os.read(down_read, 65536):
                collected.extend(chunk)
            os.close(down_read)

        feeder = asyncio.create_task(asyncio.to_thread(feed_tail))
        drainer = asyncio.create_task(asyncio.to_thread(drain))
        try:
            with observe_hops() as hops:
                moved = await asyncio.wait_for(
                    _pump_stream_dispatch(reader, writer, backend=StreamBackend.RUST),
                    5,
                )
        finally:
            writer.close()
        await feeder
        await drainer
        assert [hop.pump for hop in hops] == [HopPump.RUST]
        return head + tail, bytes(collected), moved

    sent, received, moved = asyncio.run(scenario())
    assert received == sent
    assert moved == len(sent)
    assert stand_in_native.calls == 1


# Scenario 7: what the pathway leaves behind once a pipeline has finished.


def _open_descriptors() -> set[int]:
    import os

    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.mark.parametrize("backend", ["rust", "python"])
def test_finished_pipelines_leave_no_descriptor_open(
    monkeypatch: pytest.MonkeyPatch,
    rust_available: StandInNative | None,
    payload: pathlib.Path,
    backend: str,
) -> None:
    """Every descriptor a hop duplicates or opens is closed when the run ends."""
    monkeypatch.setenv(BACKEND_ENV_VAR, backend)
    run_hash_pipeline(payload, stages=2)  # anything opened once, lazily, is open now
    before = _open_descriptors()
    run = run_hash_pipeline(payload, stages=3)
    leaked = _open_descriptors() - before
    assert run.digest == run.expected_digest
    assert [hop.pump for hop in run.hops] == [HopPump(backend)] * 2
    assert leaked == set()


def test_an_observer_block_records_only_the_hops_dispatched_inside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    _, earlier = run_text_pipeline()
    with observe_hops() as outer:
        _, inner = run_text_pipeline()
        _, sibling = run_text_pipeline()
    _, later = run_text_pipeline()
    assert [len(records) for records in (earlier, inner, sibling, later)] == [1, 1, 1, 1]
    assert len(outer) == 2
