"""Running the crate's tests in a scratch copy: baseline, catalogue, replays.

The scratch crate is the project's crate with two changes that do not
touch what is tested: it builds only the ``rlib`` (the Python ``cdylib``
is not needed by ``cargo test`` and costs a link per mutant), and cargo
builds without debug info (see :func:`mutation.cargo_mutants.cargo_env`).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import time

from mutation.cargo_mutants import cargo_env
from mutation.cargo_test_log import failed_tests
from mutation.results import Killer

_CRATE_ENTRIES = ("Cargo.toml", "Cargo.lock", "src", "tests")
_CRATE_TYPE = re.compile(r"^crate-type\s*=\s*\[[^\]]*\]\s*$", re.M)


class BaselineFailedError(RuntimeError):
    """The crate's tests fail without any mutant (exit 4)."""


def copy_crate(
    crate: pathlib.Path, dest: pathlib.Path, target_cache: pathlib.Path | None
) -> pathlib.Path:
    """Copy the crate's sources into ``dest`` as an rlib-only crate.

    A previous run's build directory (``target_cache``) is copied in when
    there is one, so that only the crate itself is compiled again.
    """
    dest.mkdir(parents=True, exist_ok=True)
    # Fresh modification times (copyfile, not copy2): a kept build directory
    # may hold a build of the last mutant, which cargo must not take for a
    # build of these sources.
    for entry in _CRATE_ENTRIES:
        source = crate / entry
        if source.is_dir():
            shutil.copytree(source, dest / entry, copy_function=shutil.copyfile)
        elif source.exists():
            shutil.copyfile(source, dest / entry)
    manifest = dest / "Cargo.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(_CRATE_TYPE.sub('crate-type = ["rlib"]', text), encoding="utf-8")
    if target_cache is not None and target_cache.is_dir():
        shutil.copytree(target_cache, dest / "target", symlinks=True)
    return dest


def save_target(crate_copy: pathlib.Path, target_cache: pathlib.Path) -> None:
    """Keep the scratch crate's build directory for the next run."""
    built = crate_copy / "target"
    if not built.is_dir():
        return
    partial = target_cache.with_name(target_cache.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(built, partial, symlinks=True)
    shutil.rmtree(target_cache, ignore_errors=True)
    os.replace(partial, target_cache)


def test_env() -> dict[str, str]:
    """Return cargo's environment for test runs (see :func:`cargo_env`)."""
    return cargo_env()


@dataclasses.dataclass
class CargoTestRun:
    """One ``cargo test``: ``outcome`` is passed, failed, unviable or timeout."""

    outcome: str
    killers: list[Killer]
    duration: float
    output: str


def cargo_test(crate: pathlib.Path, *, timeout: float) -> CargoTestRun:
    """Build and run the crate's tests; a build failure is ``unviable``."""
    started = time.monotonic()
    build = subprocess.run(
        ["cargo", "test", "--no-run", "--quiet"],
        cwd=crate,
        env=test_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if build.returncode != 0:
        return CargoTestRun("unviable", [], time.monotonic() - started, build.stderr)
    try:
        # One stream: cargo's "Running <binary>" lines (stderr) must stay
        # next to the results they name (stdout).
        completed = subprocess.run(
            ["cargo", "test", "--no-fail-fast"],
            cwd=crate,
            env=test_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return CargoTestRun("timeout", [], time.monotonic() - started, output)
    output = completed.stdout
    killers = failed_tests(output)
    if completed.returncode == 0:
        outcome = "passed"
    elif killers:
        outcome = "failed"
    else:
        outcome = "error"
    return CargoTestRun(outcome, killers, time.monotonic() - started, output)


def baseline(crate: pathlib.Path) -> float:
    """Run the unmutated tests twice (build, then a timed run); return the test time.

    Raises
    ------
    BaselineFailedError
        If the tests do not pass without a mutant.
    """
    for _ in range(2):
        run = cargo_test(crate, timeout=1800)
        if run.outcome != "passed":
            names = "; ".join(f"{k.test}: {k.message}" for k in run.killers[:5])
            names = names or run.output.strip()[-500:]
            msg = f"the crate's tests fail without any mutant ({run.outcome}): {names}"
            raise BaselineFailedError(msg)
    return run.duration


def with_source(crate: pathlib.Path, file: str, text: str, *, timeout: float) -> CargoTestRun:
    """Run the tests with ``file`` (crate-relative) set to ``text``, then restore it."""
    path = crate / file
    original = path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    try:
        return cargo_test(crate, timeout=timeout)
    finally:
        path.write_text(original, encoding="utf-8")
