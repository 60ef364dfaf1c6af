"""A small project for the engine's self-tests: real mutmut, real pytest, seconds.

``calc.py`` has functions the tests kill fully, partly and not at all (so
both verdicts occur), ``spin`` has a mutant that loops forever, and the
kit's ``[mutation]`` and mutmut's ``[mutmut]`` sections mirror cuprum's.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

REPO = pathlib.Path(__file__).resolve().parents[2]

CALC = """\
def add(a, b):
    return a + b


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value


def describe(n):
    if n == 0:
        return "zero"
    return "many" if n > 1 else "one"


def spin(n):
    total = 0
    i = 0
    while i < n:
        total += i
        i += 1
    return total
"""

TESTS = """\
from fixturepkg.calc import add, clamp, describe, spin


def test_add():
    assert add(2, 3) == 5


def test_add_negative():
    assert add(-1, 1) == 0


def test_clamp_low():
    assert clamp(-5, 0, 10) == 0


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_describe_zero():
    assert describe(0) == "zero"


def test_spin():
    assert spin(4) == 6
"""

CATALOGUE = """\
[[mutant]]
id = "add-subtracts"
claim = "add adds"
file = "fixturepkg/calc.py"
function = "add"
find = "    return a + b\\n"
replace = "    return a - b\\n"
"""

HANGING_ENTRY = """
[[mutant]]
id = "spin-forever"
claim = "spin terminates"
file = "fixturepkg/calc.py"
function = "spin"
find = "        i += 1\\n"
replace = "        i += 0\\n"
"""

SETUP_CFG = """\
[tool:pytest]
testpaths = fixture_tests
addopts = -p no:cacheprovider

[mutmut]
source_paths = fixturepkg
only_mutate =
    fixturepkg/calc.py
pytest_add_cli_args_test_selection =
    fixture_tests/test_calc.py
also_copy =
    fixture_tests
    setup.cfg
use_git_change_detection = false

[mutation]
targets =
    fixturepkg/calc.py
tests =
    fixture_tests/test_calc.py
catalogue = kit/catalogue.toml
excused = kit/excused.toml
results = kit/results/latest.json
baseline = kit/baseline.json
coverage_branch_min = 0
mutmut_score_min = 0
max_survivors = 1000
mutant_timeout = 120
jobs = 2
timeout_factor = 5
timeout_constant = 2
copy =
    fixturepkg
    fixture_tests
    setup.cfg
"""


def make_project(root: pathlib.Path, *, hanging: bool = False) -> pathlib.Path:
    """Write the fixture project into ``root`` and return it."""
    (root / "fixturepkg").mkdir(parents=True)
    (root / "fixturepkg" / "__init__.py").write_text("")
    (root / "fixturepkg" / "calc.py").write_text(CALC)
    (root / "fixture_tests").mkdir()
    (root / "fixture_tests" / "test_calc.py").write_text(TESTS)
    (root / "kit").mkdir()
    (root / "kit" / "catalogue.toml").write_text(CATALOGUE + (HANGING_ENTRY if hanging else ""))
    (root / "kit" / "excused.toml").write_text("")
    (root / "setup.cfg").write_text(SETUP_CFG)
    return root


def kit_env(**extra: str) -> dict[str, str]:
    """The environment for running the kit on the fixture (the kit importable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "MUTANT_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def kit(
    root: pathlib.Path, *args: str, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mutation ARGS`` in ``root``."""
    return subprocess.run(
        [sys.executable, "-m", "mutation", *args],
        cwd=root,
        env=kit_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def commit_all(root: pathlib.Path) -> None:
    """Make ``root`` a git repository whose one commit holds every file in it."""
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "base")):
        subprocess.run(
            ["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )


def replace_in(path: pathlib.Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur) with ``new`` in ``path``."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def dedent(text: str) -> str:
    """``textwrap.dedent`` (re-exported for the tests' inline sources)."""
    return textwrap.dedent(text)
