#!/usr/bin/env python3
"""Build (or remove) cuprum's optional native extension.

The Rust crate in ``rust_extension/`` is compiled with maturin into a wheel
in a temporary directory, and the single ``_rust_backend_native*.so`` in that
wheel is copied into the repository's ``cuprum/`` package, replacing any
previous build, so that ``import cuprum._rust_backend_native`` works from a
source checkout.

Usage::

    python tools/build_native.py          # build and install into cuprum/
    python tools/build_native.py --clean  # delete cuprum/_rust_backend_native*.so

The exit status is non-zero, with a message on standard error, when cargo or
maturin is missing or the build fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_ROOT / "cuprum"
MANIFEST = REPO_ROOT / "rust_extension" / "Cargo.toml"
VERSION_CHECK = REPO_ROOT / "tools" / "check_versions.py"
MODULE_STEM = "_rust_backend_native"
EXTENSION_SUFFIXES = (".so", ".pyd")


def say(message: str, *, stream: TextIO | None = None) -> None:
    """Print one progress line and flush it (maturin output interleaves).

    Parameters
    ----------
    message : str
        Text to print.
    stream : TextIO | None
        Destination; standard output when ``None``.
    """
    out = sys.stdout if stream is None else stream
    out.write(f"{message}\n")
    out.flush()


class BuildError(RuntimeError):
    """Raised when the native extension cannot be built or installed."""


def installed_extensions(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """List compiled copies of the extension inside the package directory.

    Parameters
    ----------
    package_dir : Path
        Directory of the ``cuprum`` package.

    Returns
    -------
    list[Path]
        Every ``_rust_backend_native*`` file with an extension-module suffix,
        sorted by name.
    """
    if not package_dir.is_dir():
        return []
    return sorted(
        path
        for path in package_dir.glob(f"{MODULE_STEM}*")
        if path.is_file() and path.suffix in EXTENSION_SUFFIXES
    )


def clean(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Delete every compiled copy of the extension from the package.

    Parameters
    ----------
    package_dir : Path
        Directory of the ``cuprum`` package.

    Returns
    -------
    list[Path]
        The files that were deleted (empty when there was nothing to do).
    """
    removed = installed_extensions(package_dir)
    for path in removed:
        path.unlink()
    return removed


def require_tool(name: str) -> str:
    """Locate an executable beside ``sys.executable`` or on ``PATH``.

    Parameters
    ----------
    name : str
        Executable to look for.

    Returns
    -------
    str
        Absolute path of the executable.

    Raises
    ------
    BuildError
        If the executable cannot be found.
    """
    # Prefer the tool installed beside the running interpreter (a virtual
    # environment's bin/ is often not on PATH, e.g. `.venv/bin/python ...`).
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        hints = {
            "cargo": "install a Rust toolchain (https://rustup.rs)",
            "maturin": "install it with `python -m pip install 'maturin>=1.16,<1.17'`",
        }
        msg = f"`{name}` was not found on PATH; {hints.get(name, 'install it')}"
        raise BuildError(msg)
    return found


def build_wheel(maturin: str, out_dir: Path) -> Path:
    """Run ``maturin build --release`` and return the wheel it produced.

    Parameters
    ----------
    maturin : str
        Path of the maturin executable.
    out_dir : Path
        Empty directory that receives the wheel.

    Returns
    -------
    Path
        The single wheel written to ``out_dir``.

    Raises
    ------
    BuildError
        If maturin fails or does not produce exactly one wheel.
    """
    command = [
        maturin,
        "build",
        "--release",
        "-m",
        str(MANIFEST),
        "-i",
        sys.executable,
        "--out",
        str(out_dir),
    ]
    say(f"running: {shlex.join(command)}")
    result = subprocess.run(command, cwd=REPO_ROOT, check=False)
    if result.returncode != 0:
        msg = f"maturin build failed with exit status {result.returncode}"
        raise BuildError(msg)
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        names = ", ".join(wheel.name for wheel in wheels) or "none"
        msg = f"expected exactly one wheel in {out_dir}, found: {names}"
        raise BuildError(msg)
    return wheels[0]


def find_extension_member(wheel: zipfile.ZipFile) -> str:
    """Pick the compiled extension out of a wheel's members.

    maturin places it at ``cuprum/_rust_backend_native*.so`` (the crate's
    mixed layout, see ``rust_extension/pyproject.toml``); the older
    ``_rust_backend_native/_rust_backend_native*.so`` is accepted too.

    Parameters
    ----------
    wheel : zipfile.ZipFile
        The opened wheel.

    Returns
    -------
    str
        Name of the member holding the extension module.

    Raises
    ------
    BuildError
        If the wheel does not hold exactly one such member.
    """
    candidates = [
        name
        for name in wheel.namelist()
        if PurePosixPath(name).name.startswith(MODULE_STEM)
        and PurePosixPath(name).suffix in EXTENSION_SUFFIXES
        and PurePosixPath(name).parent.name in {"cuprum", MODULE_STEM}
    ]
    if len(candidates) != 1:
        found = ", ".join(candidates) or "none"
        msg = f"expected one {MODULE_STEM} extension in the wheel, found: {found}"
        raise BuildError(msg)
    return candidates[0]


def install_from_wheel(wheel_path: Path, package_dir: Path = PACKAGE_DIR) -> Path:
    """Copy the extension module from a wheel into the package directory.

    Any previously installed copy is removed first; the new file is written
    under a temporary name and renamed into place.

    Parameters
    ----------
    wheel_path : Path
        Wheel built by maturin.
    package_dir : Path
        Directory of the ``cuprum`` package.

    Returns
    -------
    Path
        Path of the installed extension module.
    """
    with zipfile.ZipFile(wheel_path) as wheel:
        member = find_extension_member(wheel)
        target = package_dir / PurePosixPath(member).name
        package_dir.mkdir(parents=True, exist_ok=True)
        for old in clean(package_dir):
            say(f"removed old build: {old.relative_to(REPO_ROOT)}")
        partial = target.with_name(f".{target.name}.partial")
        with wheel.open(member) as source, partial.open("wb") as sink:
            shutil.copyfileobj(source, sink)
    partial.chmod(0o755)
    partial.replace(target)
    return target


def build() -> Path:
    """Build the extension and install it into ``cuprum/``.

    Returns
    -------
    Path
        Path of the installed extension module.

    Raises
    ------
    BuildError
        If a tool is missing or any build step fails.
    """
    require_tool("cargo")
    maturin = require_tool("maturin")
    if not MANIFEST.is_file():
        msg = f"crate manifest not found: {MANIFEST}"
        raise BuildError(msg)
    # One version for cuprum and its pump: refuse to build a mismatched pair.
    if subprocess.run([sys.executable, str(VERSION_CHECK)], check=False).returncode != 0:
        msg = "cuprum and the native crate disagree on the version (see above)"
        raise BuildError(msg)
    with tempfile.TemporaryDirectory(prefix="cuprum-native-") as tmp:
        wheel = build_wheel(maturin, Path(tmp))
        say(f"built wheel: {wheel.name}")
        return install_from_wheel(wheel)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse command-line arguments.

    Parameters
    ----------
    argv : list[str] | None
        Arguments without the program name; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    argparse.Namespace
        Parsed options (``clean``).
    """
    parser = argparse.ArgumentParser(
        description=(
            "Build cuprum's optional Rust extension with maturin and copy it "
            "into cuprum/, or remove it with --clean."
        ),
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="delete cuprum/_rust_backend_native*.so instead of building",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command-line interface.

    Parameters
    ----------
    argv : list[str] | None
        Arguments without the program name; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit status: 0 on success, 1 on failure.
    """
    args = parse_args(argv)
    if args.clean:
        removed = clean()
        for path in removed:
            say(f"removed: {path.relative_to(REPO_ROOT)}")
        if not removed:
            say("nothing to clean: no compiled extension in cuprum/")
        return 0
    try:
        installed = build()
    except BuildError as exc:
        say(f"build_native: error: {exc}", stream=sys.stderr)
        return 1
    say(f"installed: {installed.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
