"""Isolated copies of the project: the kit never touches the working tree."""

from __future__ import annotations

import contextlib
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
    """
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
