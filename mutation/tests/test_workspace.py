"""Scratch directories take their children's temporary files with them."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from mutation.workspace import scratch_directory


def test_a_childs_temporary_files_go_with_the_scratch_directory() -> None:
    before = os.environ.get("TMPDIR")
    with scratch_directory() as scratch:
        # A real child that, like pytest, creates its own directory under TMPDIR.
        made = subprocess.run(
            [sys.executable, "-c", "import tempfile; print(tempfile.mkdtemp(prefix='child-'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert pathlib.Path(made).is_relative_to(scratch)
        assert pathlib.Path(made).is_dir()
    assert not pathlib.Path(made).exists()
    assert not scratch.exists()
    assert os.environ.get("TMPDIR") == before
