"""tools/check_versions.py: one version for cuprum and its native pump."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cuprum._version import __version__
from tools import check_versions

REPO = Path(__file__).resolve().parents[2]
PLACES = (
    "cuprum/_version.py",
    "rust_extension/Cargo.toml",
    "rust_extension/Cargo.lock",
    "pyproject.toml",
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the four files that carry the version."""
    for relative in PLACES:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / relative, target)
    return tmp_path


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


def test_the_checkout_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_versions.main(["--root", str(REPO)]) == 0
    assert (
        capsys.readouterr().out == f"versions agree: cuprum and cuprum-rust-backend {__version__}\n"
    )


def test_the_script_runs_on_its_own() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "check_versions.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert __version__ in result.stdout


@pytest.mark.parametrize(
    ("relative", "old", "new", "place"),
    [
        (
            "rust_extension/Cargo.toml",
            f'version = "{__version__}"',
            'version = "7.0.0"',
            "rust_extension/Cargo.toml [package] version",
        ),
        (
            "rust_extension/Cargo.lock",
            f'name = "cuprum-rust-backend"\nversion = "{__version__}"',
            'name = "cuprum-rust-backend"\nversion = "7.0.0"',
            "rust_extension/Cargo.lock cuprum-rust-backend entry",
        ),
        (
            "pyproject.toml",
            f"cuprum-rust-backend=={__version__}",
            "cuprum-rust-backend==7.0.0",
            "pyproject.toml rust extra",
        ),
    ],
)
def test_a_place_that_differs_fails_the_check(
    tree: Path, capsys: pytest.CaptureFixture[str], relative: str, old: str, new: str, place: str
) -> None:
    edit(tree, relative, old, new)

    assert check_versions.main(["--root", str(tree)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"check_versions: {place} is '7.0.0' but cuprum/_version.py says '{__version__}'",
        "check_versions: set every place to the same version as cuprum/_version.py "
        "(cuprum and its native pump are released together)",
    ]


def test_changing_the_source_of_truth_alone_fails_for_every_other_place(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(tree, "cuprum/_version.py", f'"{__version__}"', '"7.0.0"')

    assert check_versions.main(["--root", str(tree)]) == 1
    assert capsys.readouterr().err.count("says '7.0.0'") == 3


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        (
            "cuprum/_version.py",
            f'__version__ = "{__version__}"',
            "__version__ = VERSION",
            "cuprum/_version.py must assign a string literal to __version__",
        ),
        (
            "rust_extension/Cargo.toml",
            f'version = "{__version__}"\n',
            "",
            "rust_extension/Cargo.toml has no [package] version",
        ),
        (
            "rust_extension/Cargo.lock",
            'name = "cuprum-rust-backend"',
            'name = "renamed"',
            "rust_extension/Cargo.lock has no single cuprum-rust-backend entry",
        ),
        (
            "pyproject.toml",
            f'rust = ["cuprum-rust-backend=={__version__}"]',
            'rust = ["cuprum-rust-backend>=0.1"]',
            'pyproject.toml must declare the extra `rust = ["cuprum-rust-backend==<version>"]`',
        ),
        ("pyproject.toml", "[project]", "[project", "pyproject.toml is not valid TOML"),
    ],
)
def test_an_unreadable_place_is_a_clear_error(
    tree: Path,
    capsys: pytest.CaptureFixture[str],
    relative: str,
    old: str,
    new: str,
    message: str,
) -> None:
    edit(tree, relative, old, new)

    assert check_versions.main(["--root", str(tree)]) == 2
    assert capsys.readouterr().err.startswith(f"check_versions: error: {message}")


def test_a_missing_file_is_named(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "rust_extension" / "Cargo.lock").unlink()

    assert check_versions.main(["--root", str(tree)]) == 2
    assert capsys.readouterr().err.startswith(
        "check_versions: error: cannot read rust_extension/Cargo.lock: "
    )
