"""A copy of this project with a cut-down kit suite, for the gate honesty tests.

The copy is a git repository whose last commit is the unedited tree; the
caller then marks one function as changed, so a review run (``run --since
HEAD``) executes only that function's mutants through the real engine, which
keeps the honesty tests quick. No built extension is copied: the stand-in
pump serves Rust hops.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

from mutation.tests.fixture_project import commit_all

REPO = pathlib.Path(__file__).resolve().parents[2]
COPIED = ("cuprum", "tests", "features", "mutation", "conftest.py", "setup.cfg", "pyproject.toml")


def copy_project(tmp_path: pathlib.Path) -> pathlib.Path:
    """Copy what the kit needs of this project into ``tmp_path / "project"``.

    Caches, earlier results and built extensions are left behind.
    """
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "results", "*.so")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    return root


def set_kit_tests(root: pathlib.Path, tests: list[str], coverage_min: str = "0") -> None:
    """Make ``tests`` the kit's whole suite in the copy at ``root``.

    The engine's scoped tests are not in such a suite, so the scope goes
    too (the kit refuses scoped tests that are not among its tests).
    """
    cfg = (root / "setup.cfg").read_text()
    head, _, tail = cfg.partition("[mutation]")
    listed = "".join(f"    {test}\n" for test in tests)
    tail = re.sub(r"\ntests =\n(    .*\n)+", f"\ntests =\n{listed}", tail, count=1)
    tail = re.sub(r"(?m)^scoped_(tests|targets) =\n(    .*\n)+", "", tail)
    tail = re.sub(
        r"\ncoverage_branch_min = \d+\n", f"\ncoverage_branch_min = {coverage_min}\n", tail, count=1
    )
    (root / "setup.cfg").write_text(head + "[mutation]" + tail)


def slim_project(tmp_path: pathlib.Path, suite: str, suite_text: str) -> pathlib.Path:
    """Copy the project into ``tmp_path`` with ``suite`` as the kit's only test file.

    Coverage is not on trial (a few tests cannot cover whole modules), so
    the copy's coverage gate is set to 0.
    """
    root = copy_project(tmp_path)
    set_kit_tests(root, [suite])
    (root / suite).write_text(suite_text)
    commit_all(root)
    return root


def mark_under_review(root: pathlib.Path, module: str, marker: str) -> None:
    """Add a comment after ``marker`` (unique in ``module``) so its function changed."""
    source = root / module
    text = source.read_text()
    assert text.count(marker) == 1, marker
    source.write_text(text.replace(marker, marker + "    # under review\n"))


def review(root: pathlib.Path) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """Run the kit's review of the changed functions (no mutmut); return its results."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KIT_", "MUTANT_")) and k != "CUPRUM_EXPECT_NATIVE"
    }
    completed = subprocess.run(
        [sys.executable, "-m", "mutation", "run", "--since", "HEAD", "--skip-mutmut"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    path = root / "mutation" / "results" / "review.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    return completed, data


def ran(data: dict[str, object], origin: str) -> dict[str, dict[str, object]]:
    """The mutants of ``origin`` that the review executed, by id."""
    mutants = data.get("mutants", [])
    assert isinstance(mutants, list)
    return {m["id"]: m for m in mutants if m["origin"] == origin and m["status"] != "not_run"}


def gate(data: dict[str, object], name: str) -> dict[str, object]:
    """The gate called ``name`` in the review's results."""
    gates = data.get("gates", [])
    assert isinstance(gates, list)
    found: list[dict[str, object]] = [g for g in gates if g["name"] == name]
    (only,) = found
    return only
