"""Cross-language kills: Rust mutants built into the extension, Python tests run.

A Rust mutant is built into the extension and run against the Python tests
that drive the pump.

A mutant that ``cargo test`` misses may still break what Python sees
(``is_available()`` answering ``False``, a wrong errno in an ``OSError``, a
cancellation that never returns). The kit builds the mutated crate as the
extension module into a scratch copy of the project's ``cuprum/`` and runs
the pump, parity and pathway-selection suites there with
``CUPRUM_STREAM_BACKEND=rust``. Everything happens in scratch copies.
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import os
import pathlib
import shutil
import subprocess
import sys

from mutation.cargo_mutants import cargo_env
from mutation.pytest_runs import TestRun, run_pytest
from mutation.workspace import copy_project

PROJECT_ENTRIES = ("cuprum", "tests", "features", "conftest.py", "setup.cfg", "pyproject.toml")
PYTHON_ENV = {"CUPRUM_STREAM_BACKEND": "rust", "CUPRUM_EXPECT_NATIVE": "present"}
_MODULE = "_rust_backend_native"


class CrossLanguageError(RuntimeError):
    """The unmutated extension does not build, or its Python tests fail."""


@dataclasses.dataclass
class PythonBench:
    """A scratch project and a crate copy to build mutated extensions in.

    ``timeout`` is set from the baseline run by :meth:`baseline`.
    """

    workspace: pathlib.Path
    crate: pathlib.Path
    tests: tuple[str, ...]
    timeout: float = 0.0

    @classmethod
    def create(
        cls,
        root: pathlib.Path,
        crate: pathlib.Path,
        scratch: pathlib.Path,
        tests: tuple[str, ...],
        target_cache: pathlib.Path,
    ) -> PythonBench:
        """Copy the project and ``crate`` (already a scratch copy) under ``scratch``.

        The extension's build directory from an earlier run
        (``target_cache``) is copied in when there is one.
        """
        workspace = scratch / "python"
        copy_project(root, PROJECT_ENTRIES, workspace)
        for built in (workspace / "cuprum").glob(f"{_MODULE}*"):
            built.unlink()
        crate_copy = scratch / "xl-crate"
        shutil.copytree(
            crate,
            crate_copy,
            ignore=shutil.ignore_patterns("target", "mutants.out*"),
            copy_function=shutil.copyfile,  # fresh times: see rust_runs.copy_crate
        )
        # The scratch crate builds only the rlib; the extension needs both.
        manifest = crate_copy / "Cargo.toml"
        manifest.write_text(
            manifest.read_text(encoding="utf-8").replace(
                'crate-type = ["rlib"]', 'crate-type = ["cdylib", "rlib"]'
            ),
            encoding="utf-8",
        )
        if target_cache.is_dir():
            shutil.copytree(target_cache, crate_copy / "target", symlinks=True)
        return cls(workspace=workspace, crate=crate_copy, tests=tests)

    def build(self, file: str, text: str | None) -> str | None:
        """Build the extension with ``file`` (crate-relative) set to ``text``.

        ``text=None`` builds the unmutated crate. Returns an error text when
        the build fails (the mutant is unviable as an extension).
        """
        path = self.crate / file
        original = path.read_text(encoding="utf-8")
        if text is not None:
            path.write_text(text, encoding="utf-8")
        try:
            completed = subprocess.run(
                ["cargo", "build", "--lib", "--features", "extension-module", "--quiet"],
                cwd=self.crate,
                env={**cargo_env(), "PYO3_PYTHON": sys.executable},
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
        finally:
            path.write_text(original, encoding="utf-8")
        if completed.returncode != 0:
            return completed.stderr.strip()[-800:] or f"cargo build exit {completed.returncode}"
        built = self.crate / "target" / "debug" / f"lib{_MODULE}.so"
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        target = self.workspace / "cuprum" / f"{_MODULE}{suffix}"
        partial = target.with_name(f".{target.name}.partial")
        shutil.copy2(built, partial)
        os.replace(partial, target)
        return None

    def run(self, *, timeout: float) -> TestRun:
        """Run the Python tests against the extension built last."""
        return run_pytest(
            self.workspace, list(self.tests), timeout=timeout, extra_env=PYTHON_ENV, stop_first=True
        )

    def baseline(self, multiplier: float, minimum: float) -> float:
        """Build the unmutated extension and run the tests; set the timeout.

        Raises
        ------
        CrossLanguageError
            If the build fails or any test fails: mutants cannot be judged.
        """
        error = self.build("src/lib.rs", None)
        if error is not None:
            msg = f"the unmutated extension does not build: {error}"
            raise CrossLanguageError(msg)
        run = self.run(timeout=max(600.0, minimum))
        if run.outcome != "passed":
            failed = "; ".join(f"{k.test}: {k.message}" for k in (run.failures + run.errors)[:3])
            msg = f"the Python pump tests fail on the unmutated extension ({run.outcome}): {failed}"
            raise CrossLanguageError(msg)
        self.timeout = max(minimum, multiplier * run.duration)
        return run.duration
