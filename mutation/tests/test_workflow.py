"""The sharded GitHub Actions workflow runs every shard and merges them all."""

from __future__ import annotations

import pathlib
import typing as typ

import yaml  # type: ignore[import-untyped]  # PyYAML comes with mutmut (via libcst)

WORKFLOW = pathlib.Path(__file__).resolve().parents[2] / ".github" / "workflows" / "mutation.yml"


def _steps(job: dict[str, typ.Any]) -> list[dict[str, typ.Any]]:
    steps = job["steps"]
    assert isinstance(steps, list)
    return steps


def test_every_shard_runs_and_the_merge_takes_them_all() -> None:
    workflow: dict[str, typ.Any] = yaml.safe_load(WORKFLOW.read_text())
    count = int(workflow["env"]["SHARDS"])
    shard = workflow["jobs"]["shard"]
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    runs = " ".join(str(step.get("run", "")) for step in _steps(shard))
    assert "python -m mutation run --force --shard" in runs
    uploads = [s for s in _steps(shard) if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads
    assert f"-of-{count}.json" in str(uploads[0]["with"]["path"])
    merge = workflow["jobs"]["merge"]
    assert merge["needs"] == "shard"
    merge_runs = " ".join(str(step.get("run", "")) for step in _steps(merge))
    assert "python -m mutation merge mutation/results/shard-*-of-" in merge_runs
    summary = next(s for s in _steps(merge) if "GITHUB_STEP_SUMMARY" in str(s.get("run", "")))
    assert summary["if"] == "always()"
    assert "summary.md" in str(summary["run"])
    reports = [s for s in _steps(merge) if str(s.get("uses", "")).startswith("actions/upload")]
    assert "mutation/results/report/" in str(reports[0]["with"]["path"])


def test_every_rust_shard_runs_and_the_rust_merge_takes_them_all() -> None:
    workflow: dict[str, typ.Any] = yaml.safe_load(WORKFLOW.read_text())
    count = int(workflow["env"]["RUST_SHARDS"])
    shard = workflow["jobs"]["rust-shard"]
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    runs = " ".join(str(step.get("run", "")) for step in _steps(shard))
    assert "make cargo-mutants" in runs
    assert "python -m mutation.rust_phase run --force --shard" in runs
    uploads = [s for s in _steps(shard) if str(s.get("uses", "")).startswith("actions/upload")]
    assert f"-of-{count}" in str(uploads[0]["with"]["path"])
    name = str(uploads[0]["with"]["name"])
    merge = workflow["jobs"]["rust-merge"]
    assert merge["needs"] == "rust-shard"
    downloads = [s for s in _steps(merge) if str(s.get("uses", "")).startswith("actions/download")]
    assert name.startswith(str(downloads[0]["with"]["pattern"]).rstrip("*"))
    merge_runs = " ".join(str(step.get("run", "")) for step in _steps(merge))
    assert "python -m mutation.rust_phase merge mutation/results/rust-shard-*-of-" in merge_runs
    # The Python merge downloads only its own shards.
    python_downloads = [
        s for s in _steps(workflow["jobs"]["merge"]) if "download" in str(s.get("uses", ""))
    ]
    assert not name.startswith(str(python_downloads[0]["with"]["pattern"]).rstrip("*"))
