"""Run inside a pristine copy: let mutmut 3.8.1 generate its mutants, export them.

Invoked by the kit as ``python mutmut_generate.py JOBS OUT.json [FILE...]``
with the copy as the working directory; the files, when given (a review
run's changed modules), narrow mutmut's ``only_mutate`` so the other
targets are copied unmutated instead of costing seconds of generation. It does what ``mutmut run`` does before any
test runs (copies the sources into ``mutants/`` and writes the trampolined
modules) and writes ``{mutant name: {file, diff}}``, using mutmut's own diff
function so diffs match ``mutmut show``. No test runs here: the kit's
executor runs them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import sys


def main() -> int:
    """Generate the mutants and write the export."""
    from mutmut.__main__ import create_mutants
    from mutmut.configuration import config
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import (
        copy_also_copy_files,
        copy_src_dir,
        setup_source_paths,
        walk_mutatable_files,
    )

    jobs, out, only = int(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
    if only:
        # In place: mutmut's generation pool forks and inherits this config.
        config().only_mutate[:] = only
    set_mutant_under_test("mutant_generation")
    os.makedirs("mutants", exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        copy_src_dir()
        copy_also_copy_files()
        setup_source_paths()
        create_mutants(jobs)
    exported: dict[str, dict[str, str]] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name in data.exit_code_by_key:
            exported[name] = {"file": str(path), "diff": get_diff_for_mutant(name, path=path)}
    out.write_text(json.dumps(exported), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
