#!/usr/bin/env python3
"""Check that cuprum and its native pump carry one version.

``cuprum/_version.py`` is the source of truth. Three other places must repeat
it, because their tools cannot read a Python file:

- ``rust_extension/Cargo.toml`` ``[package] version`` (maturin gives the
  ``cuprum-rust-backend`` wheel this version);
- ``rust_extension/Cargo.lock``, the crate's own entry (cargo rewrites it on
  the next build, but a ``--locked`` build refuses a stale one);
- ``pyproject.toml``'s ``rust`` extra, ``cuprum-rust-backend==<version>``.

Every build path runs this check first (``tools/build_native.py``,
``tools/check_installed.py``, the release workflow), so a mismatch fails the
build instead of shipping two distributions that refuse each other.

Usage::

    python tools/check_versions.py [--root DIR]

Exit status: 0 when every place agrees, 1 on a mismatch, 2 when a file is
missing or cannot be read.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NATIVE_DISTRIBUTION = "cuprum-rust-backend"
VERSION_FILE = "cuprum/_version.py"
CARGO_TOML = "rust_extension/Cargo.toml"
CARGO_LOCK = "rust_extension/Cargo.lock"
PYPROJECT = "pyproject.toml"


class VersionSourceError(RuntimeError):
    """Raised when a version cannot be read from one of its places."""


def _read(root: Path, relative: str) -> str:
    path = root / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read {relative}: {exc.strerror or exc}"
        raise VersionSourceError(msg) from exc


def _toml(root: Path, relative: str) -> dict[str, object]:
    try:
        return tomllib.loads(_read(root, relative))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{relative} is not valid TOML: {exc}"
        raise VersionSourceError(msg) from exc


def cuprum_version(root: Path) -> str:
    """Read ``__version__`` from ``cuprum/_version.py`` without importing it.

    Parameters
    ----------
    root : Path
        Repository root.

    Returns
    -------
    str
        The version string.

    Raises
    ------
    VersionSourceError
        If the file is unreadable or assigns no string ``__version__``.
    """
    source = _read(root, VERSION_FILE)
    for node in ast.parse(source, filename=VERSION_FILE).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__version__"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    msg = f'{VERSION_FILE} must assign a string literal to __version__ (`__version__ = "X.Y.Z"`)'
    raise VersionSourceError(msg)


def repeated_versions(root: Path) -> dict[str, str]:
    """Read the version from every place that repeats it.

    Parameters
    ----------
    root : Path
        Repository root.

    Returns
    -------
    dict[str, str]
        Version found at each place, keyed by a description of the place.

    Raises
    ------
    VersionSourceError
        If a place is missing or does not hold a version.
    """
    found: dict[str, str] = {}
    package = _toml(root, CARGO_TOML).get("package")
    version = package.get("version") if isinstance(package, dict) else None
    if not isinstance(version, str):
        msg = f"{CARGO_TOML} has no [package] version"
        raise VersionSourceError(msg)
    found[f"{CARGO_TOML} [package] version"] = version

    locked = _toml(root, CARGO_LOCK).get("package")
    entries = [
        entry
        for entry in (locked if isinstance(locked, list) else [])
        if isinstance(entry, dict) and entry.get("name") == NATIVE_DISTRIBUTION
    ]
    if len(entries) != 1 or not isinstance(entries[0].get("version"), str):
        msg = (
            f"{CARGO_LOCK} has no single {NATIVE_DISTRIBUTION} entry; run `cargo generate-lockfile`"
        )
        raise VersionSourceError(msg)
    found[f"{CARGO_LOCK} {NATIVE_DISTRIBUTION} entry"] = entries[0]["version"]

    project = _toml(root, PYPROJECT).get("project")
    extras = project.get("optional-dependencies") if isinstance(project, dict) else None
    rust = extras.get("rust") if isinstance(extras, dict) else None
    prefix = f"{NATIVE_DISTRIBUTION}=="
    if not (isinstance(rust, list) and len(rust) == 1 and str(rust[0]).startswith(prefix)):
        msg = f'{PYPROJECT} must declare the extra `rust = ["{prefix}<version>"]`'
        raise VersionSourceError(msg)
    found[f"{PYPROJECT} rust extra"] = str(rust[0]).removeprefix(prefix)
    return found


def mismatches(root: Path) -> tuple[str, list[str]]:
    """Compare every repeated version with the source of truth.

    Parameters
    ----------
    root : Path
        Repository root.

    Returns
    -------
    tuple[str, list[str]]
        cuprum's version and one message per place that differs from it.

    Raises
    ------
    VersionSourceError
        If a place cannot be read.
    """
    expected = cuprum_version(root)
    problems = [
        f"{place} is {found!r} but {VERSION_FILE} says {expected!r}"
        for place, found in repeated_versions(root).items()
        if found != expected
    ]
    return expected, problems


def main(argv: list[str] | None = None) -> int:
    """Run the check and report.

    Parameters
    ----------
    argv : list[str] | None
        Arguments without the program name; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    int
        0 when the versions agree, 1 on a mismatch, 2 when one is unreadable.
    """
    parser = argparse.ArgumentParser(
        description="Check that cuprum and cuprum-rust-backend carry one version."
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    args = parser.parse_args(argv)
    try:
        expected, problems = mismatches(args.root)
    except VersionSourceError as exc:
        sys.stderr.write(f"check_versions: error: {exc}\n")
        return 2
    if problems:
        for problem in problems:
            sys.stderr.write(f"check_versions: {problem}\n")
        sys.stderr.write(
            f"check_versions: set every place to the same version as {VERSION_FILE} "
            "(cuprum and its native pump are released together)\n"
        )
        return 1
    sys.stdout.write(f"versions agree: cuprum and {NATIVE_DISTRIBUTION} {expected}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
