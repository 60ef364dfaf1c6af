"""Run inside mutmut's working copy: export every mutant's verdict and diff.

Invoked by the kit as ``python mutmut_export.py OUT.json`` with the copy as
the working directory (mutmut's helpers read ``mutants/`` relative to it).
Uses mutmut 3.8.1's own diff function so diffs match ``mutmut show``.
"""

from __future__ import annotations

import json
import pathlib
import sys


def main() -> int:
    """Write ``{name: {file, exit_code, duration, diff, tests}}`` as JSON."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import walk_mutatable_files

    stats_path = pathlib.Path("mutants/mutmut-stats.json")
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    tests_by_function: dict[str, list[str]] = stats.get("tests_by_mangled_function_name", {})
    durations: dict[str, float] = stats.get("duration_by_test", {})
    exported: dict[str, object] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            mangled = name.partition("__mutmut_")[0]
            tests = sorted(tests_by_function.get(mangled, []), key=lambda t: durations.get(t, 0.0))
            exported[name] = {
                "file": str(path),
                "exit_code": exit_code,
                "duration": data.durations_by_key.get(name, 0.0),
                "diff": get_diff_for_mutant(name, path=path),
                "tests": tests,
            }
    pathlib.Path(sys.argv[1]).write_text(json.dumps(exported), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
