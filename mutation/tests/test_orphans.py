"""Processes a mutant leaves behind are stopped by the kit, not left running."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from mutation.tests.fixture_project import kit, make_project

# A child that ignores SIGTERM, in a session of its own: killing the
# worker's process group cannot reach it.
LAUNCH = """

def launch(marker):
    import subprocess, sys

    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code, marker], start_new_session=True)
    stop(child)
    return child


def stop(child):
    child.kill()
    child.wait()
"""

LAUNCH_TEST = """

def test_launch_stops_its_child():
    import os
    from fixturepkg.calc import launch

    assert launch(os.environ["KIT_LEAK_MARKER"]).returncode == -9
"""

# The mutant forgets to stop the child: the test fails, and the child lives on.
LEAK_ENTRY = """
[[mutant]]
id = "child-left-running"
claim = "launch stops its child"
file = "fixturepkg/calc.py"
function = "stop"
find = "    child.kill()\\n    child.wait()\\n"
replace = "    pass\\n"
"""


def _marked(marker: str) -> list[int]:
    """Return the pids whose command line carries ``marker``."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.fixture
def marker() -> Iterator[str]:
    token = f"kit-leak-{uuid.uuid4().hex}"
    yield token
    for pid in _marked(token):  # a failing run must not leave them either
        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux subreaper")
def test_a_mutants_escaped_child_is_stopped_when_the_run_ends(
    tmp_path: pathlib.Path, marker: str
) -> None:
    root = make_project(tmp_path / "p")
    with (root / "fixturepkg" / "calc.py").open("a") as calc:
        calc.write(LAUNCH)
    with (root / "fixture_tests" / "test_calc.py").open("a") as tests:
        tests.write(LAUNCH_TEST)
    with (root / "kit" / "catalogue.toml").open("a") as catalogue:
        catalogue.write(LEAK_ENTRY)

    completed = kit(root, "run", "--force", KIT_LEAK_MARKER=marker)

    assert completed.returncode in (0, 1), completed.stderr
    assert "child-left-running" in completed.stdout
    assert _marked(marker) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux subreaper")
def test_reaping_stops_every_orphan_and_its_group_level_by_level(marker: str) -> None:
    # In a child process (the test runner must not become a subreaper): it
    # starts a process that starts a deaf grandchild in a new session and
    # exits; the grandchild is reparented to the subreaper, then reaped.
    script = f"""
import subprocess, sys, time
from mutation.orphans import become_subreaper, reap_orphans

assert become_subreaper()
code = (
    "import subprocess, sys; "
    "subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)', "
    "{marker!r}], start_new_session=True)"
)
subprocess.run([sys.executable, "-c", code], check=True)
time.sleep(0.2)
print(reap_orphans())
"""
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=pathlib.Path(__file__).resolve().parents[2],
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout) >= 1
    assert _marked(marker) == []
