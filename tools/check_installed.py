#!/usr/bin/env python3
"""Test cuprum as a user installs it, not as it is checked out.

Steps (each failure stops the run with a message and a non-zero status):

1. Check that cuprum and the native pump carry one version.
2. Build, from a copy of the checkout's files (the checkout itself is never
   written to): cuprum's sdist and its pure wheel *from that sdist*, and the
   native pump's sdist and its wheel *from that sdist*. With ``--dist DIR``
   the artefacts in ``DIR`` are used instead (the release workflow builds
   manylinux wheels first).
3. Check the artefacts' contents: the pure wheel and sdist hold no compiled
   pump; the native wheel holds only ``cuprum/_rust_backend_native*`` and
   its metadata, never ``cuprum/__init__.py``.
4. Create a fresh virtual environment outside the checkout; install the
   native wheel *first*, then ``cuprum[rust]`` from the built artefacts only.
5. Run the pathway suites, copied outside the checkout, against the
   installed package with ``CUPRUM_EXPECT_NATIVE=present``.
6. Uninstall the native wheel: cuprum must still import, ``auto`` must pick
   PYTHON without a warning, and the suites must pass with
   ``CUPRUM_EXPECT_NATIVE=absent``.
7. Reinstall the native wheel *after* cuprum: ``auto`` picks RUST again.

Usage::

    python -m tools.check_installed [--dist DIR] [--keep]   # from the checkout

(``make test-installed`` runs it with the dev venv's interpreter.)

Exit status: 0 on success, 1 when a check or suite fails, 2 when a tool or
file the run needs is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

from tools.check_versions import cuprum_version
from tools.installed_artefacts import ArtefactError, Artefacts, find_artefacts

REPO_ROOT = Path(__file__).resolve().parent.parent
NATIVE_DISTRIBUTION = "cuprum-rust-backend"
# The suites that exercise the stream pathways (the mutation kit's tests plus
# the pump, parity, stream and pipeline suites and the behaviour scenarios).
# Suites about the source tree itself (e.g. the no-shell scan) are left out.
PATHWAY_SUITES = (
    "cuprum/unittests/test_backend.py",
    "cuprum/unittests/test_pipeline_stream_backend_selection.py",
    "cuprum/unittests/test_pipeline_streams_dispatch.py",
    "cuprum/unittests/test_pathway_parity.py",
    "cuprum/unittests/test_rust_pump.py",
    "cuprum/unittests/test_native_stub.py",
    "cuprum/unittests/test_streams.py",
    "cuprum/unittests/test_pipeline.py",
    "cuprum/unittests/test_pathway_scale.py",
    "cuprum/unittests/test_hop_threads.py",
    "cuprum/unittests/test_pipes.py",
    "cuprum/unittests/test_splice_pump.py",
    "tests/behaviour",
)
# What the suites import or read besides cuprum itself.
SUITE_SUPPORT = ("conftest.py", "setup.cfg", "features", "tests/__init__.py", "tests/helpers")
TEST_TOOLS = ("pytest", "pytest-bdd", "hypothesis")
SIBLING_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)cuprum\.unittests\.", re.MULTILINE)


class CheckError(RuntimeError):
    """A check failed (exit status 1)."""


class SetupError(RuntimeError):
    """A tool or file the run needs is missing (exit status 2)."""


def say(message: str) -> None:
    """Print one progress line, flushed (tool output interleaves)."""
    sys.stdout.write(f"check_installed: {message}\n")
    sys.stdout.flush()


def clean_env(**extra: str) -> dict[str, str]:
    """Build the environment for every child: nothing pointing into the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CUPRUM_EXPECT_NATIVE"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command; a non-zero status is a :class:`CheckError`."""
    say(f"$ {' '.join(command)}")
    result = subprocess.run(command, cwd=cwd, env=clean_env() if env is None else env, check=False)
    if result.returncode != 0:
        msg = f"`{' '.join(command)}` failed with exit status {result.returncode}"
        raise CheckError(msg)


def copy_checkout(dest: Path) -> Path:
    """Copy the checkout's tracked and new (not ignored) files to ``dest``.

    Build artefacts in the checkout (a ``make native`` build, ``target/``)
    are ignored files, so they never leak into the packages.
    """
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        msg = f"cannot list the checkout's files with git ({exc}); run from a git checkout"
        raise SetupError(msg) from exc
    for name in filter(None, listing.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a deleted but still tracked file is skipped
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def need_tool(module: str, hint: str) -> None:
    """Fail with ``hint`` unless ``python -m module`` is available."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        msg = f"the Python module `{module}` is missing: {hint}"
        raise SetupError(msg)


def build_artefacts(source: Path, dist: Path, work: Path) -> None:
    """Build both sdists, and each wheel from its own sdist, into ``dist``."""
    need_tool("build", "install the dev extra (`make venv`)")
    need_tool("maturin", "install the dev extra (`make venv`)")
    if shutil.which("cargo") is None:
        msg = "cargo is missing: install a Rust toolchain (https://rustup.rs)"
        raise SetupError(msg)
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=work)
    run(
        [sys.executable, "-m", "maturin", "sdist", "--manifest-path",
         str(source / "rust_extension" / "Cargo.toml"), "--out", str(dist)],
        cwd=work,
    )  # fmt: skip
    sdists = sorted(dist.glob("cuprum_rust_backend-*.tar.gz"))
    if len(sdists) != 1:
        msg = f"expected one native sdist in {dist}, found {[s.name for s in sdists]}"
        raise CheckError(msg)
    unpacked = work / "native-sdist"
    with tarfile.open(sdists[0]) as archive:
        archive.extractall(unpacked, filter="data")
    (root,) = unpacked.iterdir()
    # Reuse the checkout's cargo cache so only the crate itself recompiles.
    env = clean_env(
        CARGO_TARGET_DIR=os.environ.get(
            "CARGO_TARGET_DIR", str(REPO_ROOT / "rust_extension" / "target")
        )
    )
    run(
        [sys.executable, "-m", "maturin", "build", "--release", "--manifest-path",
         str(root / "Cargo.toml"), "--interpreter", sys.executable, "--out", str(dist)],
        cwd=work,
        env=env,
    )  # fmt: skip


def dev_pins() -> list[str]:
    """Return the dev extra's pins of the test tools the suites need."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = project["project"]["optional-dependencies"]["dev"]
    pins = [pin for pin in dev if pin.split("==")[0].split("[")[0] in TEST_TOOLS]
    if len(pins) != len(TEST_TOOLS):
        msg = f"pyproject.toml's dev extra must pin each of {', '.join(TEST_TOOLS)}"
        raise SetupError(msg)
    return pins


def copy_suites(dest: Path) -> Path:
    """Copy the pathway suites and their support files to ``dest``.

    ``cuprum/unittests`` (which the wheel does not ship) becomes
    ``unittests`` so that nothing named ``cuprum`` exists there to shadow
    the installed package; imports between its modules are rewritten to
    match (``from cuprum.unittests.x`` becomes ``from unittests.x``).
    """
    ignore = shutil.ignore_patterns("__pycache__")
    for name in (*SUITE_SUPPORT, *PATHWAY_SUITES):
        source = REPO_ROOT / name
        target = dest / name.removeprefix("cuprum/")
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for module in sorted((REPO_ROOT / "cuprum" / "unittests").glob("*.py")):
        text = module.read_text(encoding="utf-8")
        (dest / "unittests" / module.name).write_text(
            SIBLING_IMPORT.sub(r"\1unittests.", text), encoding="utf-8"
        )
    return dest


def python_says(python: Path, code: str, *, cwd: Path) -> str:
    """Run ``code`` (warnings are errors) in the venv, from ``cwd``; return stdout."""
    result = subprocess.run(
        [str(python), "-P", "-W", "error", "-c", code],
        cwd=cwd,
        env=clean_env(PYTHONPATH=str(cwd)),  # what pytest adds for the root conftest
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"the installed package failed a check:\n{code}\n{result.stderr.strip()}"
        raise CheckError(msg)
    return result.stdout.strip()


WHERE = """\
import sys, cuprum
print(cuprum.__file__)
assert cuprum.__file__.startswith(sys.prefix), f"cuprum imported from {cuprum.__file__}"
"""


def expect_backend(python: Path, suite: Path, backend: str) -> None:
    """Check that the installed cuprum picks ``backend`` under ``auto``, silently."""
    code = (
        f"{WHERE}import cuprum._backend as b\n"
        f"assert cuprum.get_stream_backend().value == {backend!r}, cuprum.get_stream_backend()\n"
        f"assert cuprum.is_rust_available() is {backend == 'rust'}\n"
        "print(b._check_rust_available())\n"
    )
    say(f"auto -> {backend.upper()}: {python_says(python, code, cwd=suite)}")


def run_suites(python: Path, suite: Path, expect: str) -> None:
    """Run the pathway suites against the installed package."""
    targets = [name.removeprefix("cuprum/") for name in PATHWAY_SUITES]
    env = clean_env(CUPRUM_EXPECT_NATIVE=expect, PYTHONSAFEPATH="1")
    run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets], cwd=suite, env=env)


def check(dist_dir: Path | None, work: Path) -> None:
    """Run every step in ``work`` (see the module docstring)."""
    run([sys.executable, str(REPO_ROOT / "tools" / "check_versions.py")], cwd=REPO_ROOT)
    if dist_dir is not None and not dist_dir.is_dir():
        msg = f"--dist {dist_dir} is not a directory"
        raise SetupError(msg)
    if dist_dir is None:
        dist_dir = work / "dist"
        build_artefacts(copy_checkout(work / "source"), dist_dir, work)
    artefacts: Artefacts = find_artefacts(dist_dir, cuprum_version(REPO_ROOT))
    say(f"artefacts check out: {artefacts.describe()}")

    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "--quiet"]
    run([*pip, "install", *dev_pins()], cwd=work)
    local = ["--no-index", "--find-links", str(dist_dir)]
    # The native wheel first: it must install into an absent cuprum package.
    run([*pip, "install", *local, f"{NATIVE_DISTRIBUTION}=={artefacts.version}"], cwd=work)
    run([*pip, "install", *local, f"cuprum[rust]=={artefacts.version}"], cwd=work)

    suite = copy_suites(work / "suite")
    expect_backend(python, suite, "rust")
    run_suites(python, suite, "present")

    run([*pip, "uninstall", "--yes", NATIVE_DISTRIBUTION], cwd=work)
    expect_backend(python, suite, "python")
    run_suites(python, suite, "absent")

    # The native wheel after cuprum: the other order works too.
    run([*pip, "install", *local, f"{NATIVE_DISTRIBUTION}=={artefacts.version}"], cwd=work)
    expect_backend(python, suite, "rust")


def main(argv: list[str] | None = None) -> int:
    """Run the check; return the exit status."""
    parser = argparse.ArgumentParser(
        description="Build cuprum's packages, install them outside the checkout, test them."
    )
    parser.add_argument(
        "--dist",
        type=Path,
        help="use the sdist and wheels already in DIR instead of building them",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    dist = None if args.dist is None else args.dist.resolve()
    work = Path(tempfile.mkdtemp(prefix="cuprum-installed-"))
    if work.is_relative_to(REPO_ROOT):
        say(f"error: the work directory {work} is inside the checkout; set TMPDIR elsewhere")
        return 2
    started = time.monotonic()
    try:
        check(dist, work)
    except SetupError as exc:
        say(f"error: {exc}")
        return 2
    except (CheckError, ArtefactError) as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
