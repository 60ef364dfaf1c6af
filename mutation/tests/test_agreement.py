"""The kit agrees with plain mutmut, and ``--matrix`` names every killer.

A plain ``mutmut run`` (3.8.1, its own runner) and the kit's executor run on
copies of the fixture project; every mutant mutmut calls killed or survived
must have the same verdict from the kit.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from mutation.tests.fixture_project import kit, kit_env, make_project

_EXPORT = """
import json
from mutmut.mutation.data import SourceFileMutationData
from mutmut.utils.file_utils import walk_mutatable_files
codes = {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    codes.update(data.exit_code_by_key)
print(json.dumps(codes))
"""
_MUTMUT_VERDICT = {0: "survived", 1: "killed", 3: "killed"}


@pytest.fixture(autouse=True)
def per_test_limit() -> None:
    """Replace the suite's 30 s alarm: mutmut and the kit each run whole here."""


def _mutmut_verdicts(root: pathlib.Path) -> dict[str, str]:
    env = kit_env()
    env.pop("PYTHONPATH")
    mutmut = pathlib.Path(sys.executable).with_name("mutmut")
    subprocess.run(
        [str(mutmut), "run", "--max-children", "2"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    exported = subprocess.run(
        [sys.executable, "-c", _EXPORT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    codes: dict[str, int | None] = json.loads(exported.stdout)
    return {name: _MUTMUT_VERDICT[code] for name, code in codes.items() if code in _MUTMUT_VERDICT}


def test_kit_verdicts_equal_plain_mutmut(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "kit")
    plain = tmp_path / "plain"
    shutil.copytree(root, plain)
    expected = _mutmut_verdicts(plain)
    assert "killed" in expected.values()
    assert "survived" in expected.values()
    completed = kit(root, "run", "--force")
    assert completed.returncode in (0, 1), completed.stderr
    data = json.loads((root / "kit" / "results" / "latest.json").read_text())
    ours = {m["id"]: m["status"] for m in data["mutants"] if m["origin"] == "mutmut"}
    assert {name: ours.get(name) for name in expected} == expected


def test_matrix_records_every_killer_and_default_the_first(tmp_path: pathlib.Path) -> None:
    root = make_project(tmp_path / "p")
    mutant = "fixturepkg.calc.x_add__mutmut_"

    def killers(*args: str) -> dict[str, list[str]]:
        completed = kit(root, "run", "--force", *args)
        assert completed.returncode in (0, 1), completed.stderr
        data = json.loads((root / "kit" / "results" / "latest.json").read_text())
        return {
            m["id"]: [k["test"] for k in m["killers"]]
            for m in data["mutants"]
            if m["id"].startswith(mutant)
        }

    first = killers()
    every = killers("--matrix")
    both = {
        "fixture_tests/test_calc.py::test_add",
        "fixture_tests/test_calc.py::test_add_negative",
    }
    doubly = [name for name, tests in every.items() if set(tests) == both]
    assert doubly, every
    assert all(len(first[name]) == 1 for name in doubly)
    assert all(first[name][0] in both for name in doubly)
