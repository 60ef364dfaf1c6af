"""Isolated copies of the project: the kit never touches the working tree."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile
import typing as typ
from collections.abc import Iterator

_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".hypothesis", "mutants"
)


def copy_project(root: pathlib.Path, entries: typ.Iterable[str], dest: pathlib.Path) -> None:
    """Copy ``entries`` (files or directories) of ``root`` into ``dest``.

    Built artefacts inside them (the native extension) come along, so a
    workspace tests the same pathway the working tree would.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        source = root / entry
        target = dest / entry
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORED, dirs_exist_ok=True)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@contextlib.contextmanager
def scratch_directory(prefix: str = "cuprum-mutation-") -> Iterator[pathlib.Path]:
    """Yield a temporary directory, removed on exit however the block ends.

    Signals are turned into ``KeyboardInterrupt`` by
    :func:`mutation.processes.interruptible`, entered around this block, so
    the removal here also runs on SIGINT and SIGTERM.

    While the block runs, ``TMPDIR`` points into the directory, so what the
    kit's children leave in their temporary directory (pytest's
    ``pytest-of-<user>``, cargo's files) goes with it, even when a child is
    killed before it can clean up.
    """
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    children_tmp = path / "tmp"
    children_tmp.mkdir()
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(children_tmp)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous
        shutil.rmtree(path, ignore_errors=True)
