"""Parity of the sink hop: the native consumer decodes exactly as the Python one.

Random binary payloads (Hypothesis) go through ``cat`` with
``CUPRUM_STREAM_BACKEND=python`` and ``rust``; the captured text must be
identical, and under ``rust`` the native consumer must have read it. A second
property writes UTF-8 text in pieces that split characters across reads.
The Rust side is the compiled extension when it is built, the stand-in
otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuprum import CAT, sh
from cuprum._backend import (
    BACKEND_ENV_VAR,
    NATIVE_MODULE_NAME,
    StreamBackend,
    _check_rust_available,
    get_stream_backend,
)
from cuprum._hop_ends import dispatch_sink_hop
from cuprum._pipeline_streams import HopKind, HopPump, observe_hops
from cuprum._streams import OutputSink
from tests.helpers.native import install_stand_in, native_module

_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def rust_side(monkeypatch: pytest.MonkeyPatch) -> str:
    if native_module() is not None:
        monkeypatch.delitem(sys.modules, NATIVE_MODULE_NAME, raising=False)
        return "compiled"
    install_stand_in(monkeypatch)
    return "stand-in"


def _capture(backend: str, payload: bytes) -> tuple[str, list[HopPump]]:
    os.environ[BACKEND_ENV_VAR] = backend
    get_stream_backend.cache_clear()
    _check_rust_available.cache_clear()
    with observe_hops([HopKind.SINK]) as hops:
        result = sh.make(CAT)().run_sync(stdin=payload)
    return result.stdout, [hop.pump for hop in hops]


@_SETTINGS
@given(payload=st.binary(max_size=200_000))
def test_native_and_python_consumers_agree_on_random_bytes(
    rust_side: str, monkeypatch: pytest.MonkeyPatch, payload: bytes
) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "python")
    python_text, python_pumps = _capture("python", payload)
    rust_text, rust_pumps = _capture("rust", payload)
    assert python_pumps == [HopPump.PYTHON]
    assert rust_pumps == [HopPump.RUST]
    assert rust_text == python_text == payload.decode("utf-8", errors="replace")


def _write_in_pieces(fd: int, pieces: list[bytes]) -> None:
    for piece in pieces:
        os.write(fd, piece)
        time.sleep(0.002)  # let the consumer read each piece on its own
    os.close(fd)


def _consume_pieces(backend: StreamBackend, pieces: list[bytes]) -> tuple[str, list[HopPump]]:
    async def scenario() -> tuple[str, list[HopPump]]:
        read_fd, write_fd = os.pipe()
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        transport.pause_reading()
        writer = threading.Thread(target=_write_in_pieces, args=(write_fd, pieces))
        writer.start()
        sink = OutputSink()
        with observe_hops([HopKind.SINK]) as hops:
            await dispatch_sink_hop(reader, sink, bounded=False, backend=backend)
        writer.join()
        return sink.text, [hop.pump for hop in hops]

    return asyncio.run(asyncio.wait_for(scenario(), 20))


@_SETTINGS
@given(
    # codec="utf-8": lone surrogates (U+D800..U+DFFF) have no UTF-8 encoding.
    text=st.text(
        alphabet=st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=40
    ),
    cuts=st.lists(st.integers(min_value=1, max_value=200), max_size=12),
)
def test_utf8_split_across_reads_decodes_identically(
    rust_side: str, text: str, cuts: list[int]
) -> None:
    data = text.encode("utf-8")
    bounds = sorted({cut % len(data) for cut in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    python_text, python_pumps = _consume_pieces(StreamBackend.PYTHON, pieces)
    rust_text, rust_pumps = _consume_pieces(StreamBackend.RUST, pieces)
    assert (python_pumps, rust_pumps) == ([HopPump.PYTHON], [HopPump.RUST])
    assert rust_text == python_text == text
