"""Helpers shared by the pathway-selection unit and behaviour tests."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib

from cuprum import CAT, DEFAULT_CATALOGUE, Pipeline, PipelineResult, Program, sh
from cuprum._pipeline_streams import HopRecord, observe_hops
from cuprum._programs import ProgramCatalogue, ProgramEntry

SHA256SUM = Program("sha256sum")
HASH_CATALOGUE = ProgramCatalogue(
    [
        ProgramEntry(CAT, project="coreutils"),
        ProgramEntry(SHA256SUM, project="coreutils", notes="byte-exact checks"),
    ]
)

RUN_TIMEOUT = 2.0
"""Seconds a test pipeline may take: a hang becomes a failure, not a stall."""

PAYLOAD_BYTES = 1024 * 1024 + 17
"""Larger than a pipe buffer plus asyncio's read buffer, and not a round size,
so an upstream stage cannot finish before its hop is dispatched."""


@dataclasses.dataclass(frozen=True)
class ObservedRun:
    """A pipeline run with the hop records the dispatcher produced."""

    result: PipelineResult
    hops: list[HopRecord]
    expected_digest: str

    @property
    def digest(self) -> str:
        """The sha256 the last stage computed over what it received."""
        return self.result.stdout.split()[0]


def write_payload(directory: pathlib.Path, size: int = PAYLOAD_BYTES) -> pathlib.Path:
    """Write ``size`` random bytes to a file and return its path."""
    path = directory / "payload.bin"
    path.write_bytes(os.urandom(size))
    return path


def run_hash_pipeline(payload: pathlib.Path, stages: int = 3) -> ObservedRun:
    """Run ``cat payload | cat ... | sha256sum`` and record every hop.

    ``stages`` counts all stages, so there are ``stages - 1`` hops.
    """
    cat = sh.make(CAT, catalogue=HASH_CATALOGUE)
    commands = [cat(payload)] + [cat() for _ in range(stages - 2)]
    pipeline = Pipeline(tuple(commands)) | sh.make(SHA256SUM, catalogue=HASH_CATALOGUE)()
    with observe_hops() as hops:
        result = pipeline.run_sync(timeout=RUN_TIMEOUT)
    expected = hashlib.sha256(payload.read_bytes()).hexdigest()
    return ObservedRun(result=result, hops=list(hops), expected_digest=expected)


def run_text_pipeline() -> tuple[PipelineResult, list[HopRecord]]:
    """Run a small ``printf | tr`` pipeline and record its hop."""
    from cuprum import PRINTF, TR

    pipeline = sh.make(PRINTF)("%s\n", "pathway") | sh.make(TR)("a-z", "A-Z")
    with observe_hops() as hops:
        result = pipeline.run_sync(timeout=RUN_TIMEOUT)
    return result, list(hops)


def child_pids() -> set[int]:
    """Return the pids of this process's live children (from ``/proc``)."""
    children: set[int] = set()
    for task in pathlib.Path("/proc/self/task").iterdir():
        try:
            text = (task / "children").read_text()
        except FileNotFoundError:  # the thread ended while we looked
            continue
        children.update(int(pid) for pid in text.split())
    return children


__all__ = [
    "DEFAULT_CATALOGUE",
    "HASH_CATALOGUE",
    "PAYLOAD_BYTES",
    "ObservedRun",
    "child_pids",
    "run_hash_pipeline",
    "run_text_pipeline",
    "write_payload",
]
