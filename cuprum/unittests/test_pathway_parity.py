"""Parity: the Python and Rust pathways give identical results.

Each case runs the same pipeline twice, once with
``CUPRUM_STREAM_BACKEND=python`` and once with ``rust``, and compares stdout,
every stage's stderr and exit code. The Rust side is the compiled extension
when it is built (CI's with-extension run) and the pure-Python stand-in
otherwise, so the comparison runs on every machine.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuprum import CAT, HEAD, YES, PipelineResult, sh
from cuprum._backend import (
    BACKEND_ENV_VAR,
    NATIVE_MODULE_NAME,
    _check_rust_available,
    get_stream_backend,
)
from cuprum._pipeline import Pipeline
from cuprum._pipeline_streams import HopPump, observe_hops
from tests.helpers.native import install_stand_in, native_module
from tests.helpers.processes import PYTHON, TEST_CATALOGUE


@pytest.fixture
def rust_side(monkeypatch: pytest.MonkeyPatch) -> str:
    if native_module() is not None:
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
        return "compiled"
    install_stand_in(monkeypatch)
    return "stand-in"


Outcome = tuple[str, tuple[str, ...], tuple[int, ...]]

PARITY_TIMEOUT = 5.0
"""Seconds a parity pipeline may take (healthy ones take well under one).

A pathway that never closes a hop's writer leaves the next stage waiting for
EOF: the run must fail by its own timeout, as a test failure, before the
mutation kit's per-test limit (10 s and more) would call it a hang.
"""


def _run_on(backend: str, pipeline: Pipeline) -> tuple[Outcome, list[HopPump]]:
    os.environ[BACKEND_ENV_VAR] = backend
    get_stream_backend.cache_clear()
    _check_rust_available.cache_clear()
    with observe_hops() as hops:
        result: PipelineResult = pipeline.run_sync(timeout=PARITY_TIMEOUT)
    outcome = (
        result.stdout,
        tuple(stage.stderr for stage in result.stages),
        tuple(stage.exit_code for stage in result.stages),
    )
    return outcome, [hop.pump for hop in hops]


def assert_parity(pipeline: Pipeline) -> Outcome:
    """Run on both pathways; assert equal outcomes and the expected pumps."""
    saved = os.environ.get(BACKEND_ENV_VAR)
    try:
        python_outcome, python_pumps = _run_on("python", pipeline)
        rust_outcome, rust_pumps = _run_on("rust", pipeline)
    finally:
        if saved is None:
            os.environ.pop(BACKEND_ENV_VAR, None)
        else:
            os.environ[BACKEND_ENV_VAR] = saved
    hops = len(pipeline.stages) - 1
    assert python_pumps == [HopPump.PYTHON] * hops
    assert rust_pumps == [HopPump.RUST] * hops
    assert rust_outcome == python_outcome
    return python_outcome


def _cat_pipeline(path: pathlib.Path, stages: int = 3) -> Pipeline:
    cat = sh.make(CAT)
    return Pipeline((cat(path), *(cat() for _ in range(stages - 1))))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=st.binary(min_size=0, max_size=200_000))
def test_random_binary_payloads_agree(
    rust_side: str, tmp_path_factory: pytest.TempPathFactory, payload: bytes
) -> None:
    path = tmp_path_factory.mktemp("parity") / "payload.bin"
    path.write_bytes(payload)
    stdout, _, codes = assert_parity(_cat_pipeline(path))
    assert stdout == payload.decode("utf-8", errors="replace")
    assert codes == (0, 0, 0)


@pytest.mark.parametrize(
    "size", [0, 1, 65535, 65536, 65537, 131071, 131072, 131073, 1024 * 1024 + 1]
)
def test_sizes_around_buffer_boundaries_agree(
    rust_side: str, tmp_path: pathlib.Path, size: int
) -> None:
    payload = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    path = tmp_path / "payload.txt"
    path.write_bytes(payload)
    stdout, _, codes = assert_parity(_cat_pipeline(path, stages=4))
    assert stdout.encode() == payload
    assert codes == (0, 0, 0, 0)


@pytest.mark.parametrize("offset", [65535, 65534, 65533])
def test_utf8_split_across_chunks_agrees(
    rust_side: str, tmp_path: pathlib.Path, offset: int
) -> None:
    text = "a" * offset + "€😀é" * 1000
    path = tmp_path / "utf8.txt"
    path.write_text(text, encoding="utf-8")
    stdout, _, _ = assert_parity(_cat_pipeline(path))
    assert stdout == text


def test_early_exit_downstream_agrees(rust_side: str) -> None:
    pipeline = sh.make(YES)("parity") | sh.make(HEAD)("-c", "100000")
    stdout, _, codes = assert_parity(pipeline)
    assert stdout == ("parity\n" * 20_000)[:100_000]
    assert codes[1] == 0


def test_slow_consumer_backpressure_agrees(rust_side: str) -> None:
    """A consumer that reads in small, slow sips still gets every byte."""
    slow_reader = (
        "import sys, time\n"
        "total = 0\n"
        "while chunk := sys.stdin.buffer.read(4096):\n"
        "    total += len(chunk)\n"
        "    if total % (256 * 1024) < 4096: time.sleep(0.01)\n"
        "print(total)\n"
    )
    pipeline = sh.make(HEAD)("-c", "3000000", "/dev/zero") | sh.make(
        PYTHON, catalogue=TEST_CATALOGUE
    )("-c", slow_reader)
    stdout, _, codes = assert_parity(pipeline)
    assert stdout == "3000000\n"
    assert codes == (0, 0)


def test_stderr_and_failing_stage_agree(rust_side: str, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.txt"
    pipeline = sh.make(CAT)(missing) | sh.make(CAT)()
    stdout, stderr, codes = assert_parity(pipeline)
    assert stdout == ""
    assert "missing.txt" in stderr[0]
    assert codes == (1, 0)
