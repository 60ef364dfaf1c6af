"""Arguments reach the program verbatim: no shell, no splitting, no expansion."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

from cuprum import CAT, ECHO, PRINTF, sh

AWKWARD_ARGUMENTS = [
    "two words",
    "  leading and trailing  ",
    "'single quoted'",
    '"double quoted"',
    "unbalanced ' quote",
    "back\\slash",
    "$HOME",
    "${PATH}",
    "$(echo injected)",
    "`echo injected`",
    "a; echo injected",
    "a && echo injected",
    "a | cat",
    "a > /tmp/cuprum-should-not-exist",
    "*",
    "?",
    "[a-z]*",
    "~",
    "~root",
    "#not a comment",
    "first line\nsecond line",
    "tab\tseparated",
    "",
    "-n",
    "--help",
    "%s %d %%",
    "€ ünïcødé 日本語 🐍",
]


def printf_lines(*args: str | os.PathLike[str]) -> str:
    """Run ``printf '%s\\n' ARGS`` and return its output."""
    result = sh.make(PRINTF)("%s\n", *args).run_sync()
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("argument", AWKWARD_ARGUMENTS)
def test_each_argument_reaches_the_program_verbatim(argument: str) -> None:
    assert printf_lines(argument) == f"{argument}\n"


def test_many_awkward_arguments_keep_their_boundaries() -> None:
    expected = "".join(f"{argument}\n" for argument in AWKWARD_ARGUMENTS)

    assert printf_lines(*AWKWARD_ARGUMENTS) == expected


def test_the_process_sees_exactly_the_recorded_argv() -> None:
    # /proc/self/cmdline is the argv the kernel gave cat, NUL-separated.
    cmd = sh.make(CAT)("/proc/self/cmdline", "", "a b", "$HOME")

    result = cmd.run_sync()

    assert result.argv == ("cat", "/proc/self/cmdline", "", "a b", "$HOME")
    assert result.exit_code == 1  # "" and the others are not files
    assert result.stdout == "cat\0/proc/self/cmdline\0\0a b\0$HOME\0"


def test_no_glob_expansion_happens(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.txt").write_text("", encoding="utf-8")
    (tmp_path / "b.txt").write_text("", encoding="utf-8")

    result = sh.make(ECHO)("*.txt").run_sync(cwd=tmp_path)

    assert result.stdout == "*.txt\n"


def test_no_command_substitution_or_redirection_happens(
    tmp_path: pathlib.Path,
) -> None:
    target = tmp_path / "created"

    result = sh.make(ECHO)("x", ">", str(target), ";", "touch", str(target)).run_sync()

    assert result.stdout == f"x > {target} ; touch {target}\n"
    assert not target.exists()


def test_path_like_arguments_are_converted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "dir with space" / "file;name.txt"

    assert printf_lines(path, pathlib.PurePosixPath("rel/x")) == f"{path}\nrel/x\n"


def test_custom_path_like_argument_is_converted() -> None:
    class Location:
        def __fspath__(self) -> str:
            return "/custom/location"

    cmd = sh.make(ECHO)(Location())

    assert cmd.argv == ("echo", "/custom/location")


def test_argv_is_the_program_followed_by_the_arguments() -> None:
    cmd = sh.make(PRINTF)("%s", "a b", "")

    assert cmd.program == PRINTF
    assert cmd.argv == ("printf", "%s", "a b", "")


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(1, "int"), (b"bytes", "bytes"), (None, "NoneType"), (["a"], "list")],
)
def test_non_string_argument_is_rejected(value: object, type_name: str) -> None:
    builder = sh.make(ECHO)

    with pytest.raises(TypeError) as excinfo:
        builder("fine", value)  # type: ignore[arg-type]

    assert str(excinfo.value) == (
        f"argument 2 to 'echo' must be str or os.PathLike[str], got {type_name}"
    )


def test_bytes_path_like_argument_is_rejected() -> None:
    class BytesLocation:
        def __fspath__(self) -> bytes:
            return b"/bytes/location"

    with pytest.raises(TypeError, match=r"^argument 1 to 'cat' must be str"):
        sh.make(CAT)(BytesLocation())  # type: ignore[arg-type]


# --- no shell anywhere -------------------------------------------------------

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
SHELL_PATTERNS = re.compile(r"shell\s*=\s*True|create_subprocess_shell|os\.system\(|os\.popen\(")
EXCLUDED_DIRS = {".venv", ".git", "target", "mutants", ".mutation-work", "build"}


def project_python_sources() -> list[pathlib.Path]:
    this_file = pathlib.Path(__file__).resolve()
    sources = []
    for path in PROJECT_ROOT.rglob("*.py"):
        relative = path.relative_to(PROJECT_ROOT)
        if EXCLUDED_DIRS.intersection(relative.parts) or path.resolve() == this_file:
            continue
        sources.append(path)
    return sources


def test_the_sources_scanned_include_the_library() -> None:
    names = {path.relative_to(PROJECT_ROOT).as_posix() for path in project_python_sources()}

    assert "cuprum/_pipeline.py" in names
    assert "cuprum/sh.py" in names
    assert "cuprum/unittests/test_argv.py" not in names


def test_no_python_source_uses_a_shell() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in project_python_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SHELL_PATTERNS.search(line)
    ]

    assert offenders == []
