"""The killer-attribution plugin, run for real on a tiny trampolined module.

The module imitates mutmut's trampolines: its behaviour depends on
``MUTANT_UNDER_TEST``. One mutant is killed, one leaves a non-daemon thread
behind (which would block a normal interpreter exit), one hangs.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

MODULE = """
import os
import threading
import time


def add(a, b):
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if mutant == "mod.x_add__mutmut_1":
        return a - b
    if mutant == "mod.x_add__mutmut_2":
        threading.Thread(target=time.sleep, args=(1000,)).start()
        return a * b
    if mutant == "mod.x_add__mutmut_3":
        while True:
            time.sleep(0.01)
    return a + b
"""

TESTS = """
from mod import add


def test_other():
    assert 1 + 1 == 2


def test_add():
    assert add(2, 3) == 5
"""

PLUGIN = pathlib.Path(__file__).resolve().parents[1] / "attribution_plugin.py"


def test_plugin_names_killers_survives_stray_threads_and_bounds_hangs(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "mod.py").write_text(MODULE)
    (tmp_path / "test_mod.py").write_text(TESTS)
    shutil.copy2(PLUGIN, tmp_path / "_kit_attribution.py")
    plan = {
        "mod.x_add__mutmut_1": ["test_mod.py::test_other", "test_mod.py::test_add"],
        "mod.x_add__mutmut_2": ["test_mod.py::test_add"],
        "mod.x_add__mutmut_3": ["test_mod.py::test_add"],
        "mod.x_add__mutmut_4": ["test_mod.py::test_add"],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "MUTANT"))},
        "KIT_ATTRIBUTION_PLAN": str(tmp_path / "plan.json"),
        "KIT_ATTRIBUTION_OUT": str(tmp_path / "out.json"),
        "KIT_ATTRIBUTION_MODE": "matrix",
        "KIT_TEST_TIMEOUT": "1",
        "KIT_ATTRIBUTION_JOBS": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "_kit_attribution",
            "test_mod.py",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started
    out = json.loads((tmp_path / "out.json").read_text())
    assert [k["test"] for k in out["mod.x_add__mutmut_1"]["killers"]] == ["test_mod.py::test_add"]
    assert "assert -1 == 5" in out["mod.x_add__mutmut_1"]["killers"][0]["message"]
    assert [k["test"] for k in out["mod.x_add__mutmut_2"]["killers"]] == ["test_mod.py::test_add"]
    assert out["mod.x_add__mutmut_3"]["killers"] == []
    assert out["mod.x_add__mutmut_3"]["timeouts"] == ["test_mod.py::test_add"]
    assert out["mod.x_add__mutmut_4"] == {"killers": [], "timeouts": []}
    assert elapsed < 30  # the stray thread of mutant 2 did not hold the run
