"""Review mode: functions changed since a git ref, on a throwaway repository."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import typing as typ

import pytest

from mutation.changed import changed_functions, function_spans

TARGET = "pkg/mod.py"

BASE_SOURCE = '''\
"""A module under review."""

import functools

LIMIT = 10


def alpha(x):
    return x + 1


def beta(x):
    y = x * 2
    y += 1
    return y


@functools.lru_cache(maxsize=1)
def gamma():
    return LIMIT


class Box:
    size = 1

    def open(self):
        return "open"

    @property
    def label(self):
        return "box"

    def close(self):
        return "closed"


def delta():
    return 4
'''


@pytest.fixture
def repo(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.invalid")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet")
    write(root, BASE_SOURCE)
    (root / "README").write_text("readme\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "base")
    git(root, "tag", "base")
    return root


def git(root: pathlib.Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def write(root: pathlib.Path, text: str, file: str = TARGET) -> None:
    path = root / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def edit(old: str, new: str) -> typ.Callable[[str], str]:
    def apply(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return apply


NEW_FUNCTION = "\n\ndef epsilon():\n    return 5\n"
NEW_METHOD = '    def shake(self):\n        return "rattle"\n\n    def close(self):'

EDITS: dict[str, tuple[typ.Callable[[str], str], set[str]]] = {
    "inside one function": (edit("y = x * 2", "y = x * 3"), {"beta"}),
    "module-level code only": (edit("LIMIT = 10", "LIMIT = 11"), set()),
    "class attribute only": (edit("size = 1", "size = 2"), set()),
    "a new function": (lambda t: t + NEW_FUNCTION, {"epsilon"}),
    "a new method": (edit("    def close(self):", NEW_METHOD), {"Box.shake"}),
    "a changed decorator": (edit("maxsize=1", "maxsize=2"), {"gamma"}),
    "a deleted decorator": (edit("    @property\n", ""), {"Box.label"}),
    "an added decorator": (
        edit("def alpha(x):", "@functools.cache\ndef alpha(x):"),
        {"alpha"},
    ),
    "a deleted line inside a function": (edit("    y += 1\n", ""), {"beta"}),
    "a deleted last line of a function": (
        edit("    y += 1\n    return y\n", "    y += 1\n"),
        {"beta"},
    ),
    "a docstring added to a method": (
        edit('        return "box"\n', '        """Box."""\n        return "box"\n'),
        {"Box.label"},
    ),
    "a deleted function": (
        edit("\n\ndef delta():\n    return 4\n", "\n"),
        set(),
    ),
    "a method changed": (edit('return "closed"', 'return "shut"'), {"Box.close"}),
    "a deleted method": (
        edit('    def open(self):\n        return "open"\n\n', ""),
        set(),
    ),
    "two functions": (
        lambda t: t.replace("x + 1", "x - 1").replace("return 4", "return 5"),
        {"alpha", "delta"},
    ),
}


@pytest.mark.parametrize("case", list(EDITS))
def test_working_tree_edits(repo: pathlib.Path, case: str) -> None:
    change, expected = EDITS[case]
    write(repo, change(BASE_SOURCE))
    assert changed_functions(repo, "base", [TARGET]) == {TARGET: expected}


def test_unchanged(repo: pathlib.Path) -> None:
    assert changed_functions(repo, "base", [TARGET]) == {TARGET: set()}
    assert changed_functions(repo, "HEAD", [TARGET]) == {TARGET: set()}


def test_committed_and_uncommitted_changes(repo: pathlib.Path) -> None:
    write(repo, BASE_SOURCE.replace("x + 1", "x + 2"))
    git(repo, "commit", "--quiet", "-am", "alpha")
    write(repo, BASE_SOURCE.replace("x + 1", "x + 2").replace("return 4", "return 6"))
    assert changed_functions(repo, "base", [TARGET]) == {TARGET: {"alpha", "delta"}}
    assert changed_functions(repo, "HEAD", [TARGET]) == {TARGET: {"delta"}}
    assert changed_functions(repo, "HEAD~1", [TARGET]) == {TARGET: {"alpha", "delta"}}


def test_new_untracked_and_missing_files(repo: pathlib.Path) -> None:
    write(
        repo,
        "def one():\n    pass\n\n\nclass K:\n    def two(self):\n        pass\n",
        "pkg/new.py",
    )
    found = changed_functions(repo, "base", [TARGET, "pkg/new.py", "pkg/gone.py"])
    assert found == {
        TARGET: set(),
        "pkg/new.py": {"one", "K.two"},
        "pkg/gone.py": set(),
    }


def test_file_added_since_base(repo: pathlib.Path) -> None:
    write(repo, "def one():\n    pass\n", "pkg/added.py")
    git(repo, "add", "pkg/added.py")
    git(repo, "commit", "--quiet", "-m", "added")
    assert changed_functions(repo, "base", ["pkg/added.py"]) == {"pkg/added.py": {"one"}}


@pytest.mark.parametrize("ref", ["nope", "base~5", "--output=x"])
def test_unknown_ref(repo: pathlib.Path, ref: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"unknown git ref '{ref}'")):
        changed_functions(repo, ref, [TARGET])


def test_unparsable_file(repo: pathlib.Path) -> None:
    write(repo, "def broken(:\n")
    with pytest.raises(ValueError, match=r"cannot parse pkg/mod\.py"):
        changed_functions(repo, "base", [TARGET])


def test_function_spans_include_decorators() -> None:
    spans = {s.name: (s.start, s.end) for s in function_spans(BASE_SOURCE)}
    assert spans["gamma"] == (18, 20)
    assert spans["Box.label"] == (29, 31)
    assert set(spans) == {
        "alpha",
        "beta",
        "gamma",
        "Box.open",
        "Box.label",
        "Box.close",
        "delta",
    }
