"""Proof the Python pump's gates are honest: weaken a pump test, watch them fail.

The copy's kit suite is one real pump test, taken by name from
``cuprum/unittests/test_streams.py``: the copy loop stops reading upstream
while nobody drains downstream (back-pressure). ``pump_stream`` is marked
as changed after the copy's commit, so a review run executes only its
generated and catalogue mutants through the real engine. Intact, the test
kills the mutant that drops ``await writer.drain()`` (generated) and the
catalogue's ``pump-back-pressure-dropped``, as every ``make mutate`` shows
(its gates pass only if both are killed); with the test's two back-pressure
assertions deleted, both survive and the module's gates say so by name.
"""

from __future__ import annotations

import pathlib

import pytest

from mutation.tests.slim_copy import gate, mark_under_review, ran, review, slim_project

SUITE = "cuprum/unittests/test_pump_guard.py"
GUARD = "test_copy_loop_reads_no_further_than_downstream_accepts"
SLIM_SUITE = f"from cuprum.unittests.test_streams import {GUARD}\n"
DRAIN_DROPPED = "cuprum._streams.pump_stream__call-removed_3"
CATALOGUE_ENTRY = "pump-back-pressure-dropped"
GENERATED_GATE = "generated score cuprum/_streams.py"
BACK_PRESSURE_ASSERTIONS = (
    "    assert stalled_at < total // 8  # a few pipe buffers' worth, not the payload\n",
    "    assert held <= 4 * PUMP_CHUNK_SIZE\n",
)


@pytest.fixture
def per_test_limit() -> None:
    """Replace the suite's 30 s per-test alarm: these run the kit, bounded below."""


def _project(tmp_path: pathlib.Path) -> pathlib.Path:
    root = slim_project(tmp_path, SUITE, SLIM_SUITE)
    mark_under_review(
        root, "cuprum/_streams.py", "    transport = reader_transport(reader)\n    delivered = 0\n"
    )
    return root


def _weaken_the_pump_test(root: pathlib.Path) -> None:
    path = root / "cuprum" / "unittests" / "test_streams.py"
    text = path.read_text()
    for assertion in BACK_PRESSURE_ASSERTIONS:
        assert text.count(assertion) == 1, assertion
        text = text.replace(assertion, "")
    path.write_text(text)


def test_a_weakened_pump_test_fails_the_pump_gates_naming_the_survivors(
    tmp_path: pathlib.Path,
) -> None:
    root = _project(tmp_path)
    _weaken_the_pump_test(root)
    before = (root / "cuprum" / "_streams.py").read_bytes()

    completed, data = review(root)
    output = completed.stdout + completed.stderr

    assert completed.returncode == 1, output
    assert ran(data, "generated")[DRAIN_DROPPED]["status"] == "survived"
    generated_gate = gate(data, GENERATED_GATE)
    assert not generated_gate["passed"]
    assert f"{DRAIN_DROPPED} (survived, line " in str(generated_gate["detail"])
    must_kill = gate(data, "must-kill catalogue")
    assert not must_kill["passed"]
    assert f"{CATALOGUE_ENTRY} (survived)" in str(must_kill["detail"])
    # The mutants ran in scratch copies: the project's module is untouched.
    assert (root / "cuprum" / "_streams.py").read_bytes() == before
