"""Benchmark of the mutation kit against a plain ``mutmut run`` (``make bench-kit``).

On copies of the working tree (tracked files plus the built extension), in
one run of this script, each measurement repeated ``--repeat`` times:

- plain ``mutmut run --max-children JOBS`` (the reference);
- the full kit, ``python -m mutation run --force`` (``make mutate`` without
  its set-up);
- an unchanged re-run, ``python -m mutation run``;
- a review of one changed function, ``python -m mutation run --since HEAD``
  after a comment is added inside ``_parse_backend_value``.

Prints a Markdown table of medians with the targets (full <= 60 s and
<= 0.8x plain mutmut; review <= 15 s; unchanged <= 2 s) and the load.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHANGED_FILE = "cuprum/_backend.py"
CHANGED_MARKER = "    normalised = raw.strip().lower()\n"


class RoundFailedError(RuntimeError):
    """A command of one round exited with an unexpected status."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIT_", "MUTANT_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _copy(dest: pathlib.Path) -> pathlib.Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    files = [name for name in listed.split("\0") if name]
    files += [p.relative_to(ROOT).as_posix() for p in (ROOT / "cuprum").glob("*.so")]
    for name in files:
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / "mutation" / "results").mkdir(parents=True, exist_ok=True)
    for result in (dest / "mutation" / "results").glob("*.json"):
        result.unlink()
    return dest


def _timed(command: list[str], cwd: pathlib.Path, *, ok: tuple[int, ...] = (0,)) -> float:
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=cwd, env=_env(), capture_output=True, text=True, check=False
    )
    took = time.monotonic() - started
    if completed.returncode not in ok:
        tail = (completed.stdout + completed.stderr)[-2000:]
        msg = f"{' '.join(command)} exited {completed.returncode}:\n{tail}"
        raise RoundFailedError(msg)
    return took


def _git(cwd: pathlib.Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _one_round(scratch: pathlib.Path, jobs: int) -> dict[str, float]:
    python = sys.executable
    mutmut = str(pathlib.Path(python).with_name("mutmut"))
    plain = _copy(scratch / "plain")
    figures = {"mutmut": _timed([mutmut, "run", "--max-children", str(jobs)], plain)}
    kit = _copy(scratch / "kit")
    _git(kit, "init", "-q")
    _git(kit, "add", "-A")
    _git(kit, "commit", "-qm", "bench")
    run = [python, "-m", "mutation", "run", "--jobs", str(jobs)]
    # Exit 1 (a gate failed) is a verdict, not a broken run: time it too.
    figures["full"] = _timed([*run, "--force"], kit, ok=(0, 1))
    figures["unchanged"] = _timed(run, kit, ok=(0, 1))
    source = kit / CHANGED_FILE
    text = source.read_text(encoding="utf-8")
    assert CHANGED_MARKER in text, f"{CHANGED_MARKER!r} not in {CHANGED_FILE}"
    source.write_text(text.replace(CHANGED_MARKER, CHANGED_MARKER + "    # reviewed\n"))
    figures["review"] = _timed([*run, "--since", "HEAD"], kit, ok=(0, 1))
    figures["incremental"] = _timed(run, kit, ok=(0, 1))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median reported)")
    parser.add_argument("--jobs", type=int, default=2, help="workers for mutmut and the kit")
    args = parser.parse_args(argv)
    rounds: list[dict[str, float]] = []
    for index in range(args.repeat):
        try:
            with tempfile.TemporaryDirectory(prefix="kit-bench-") as scratch:
                figures = _one_round(pathlib.Path(scratch), args.jobs)
        except RoundFailedError as exc:
            # A flaky test in plain mutmut's clean run spoils that round only.
            print(f"round {index + 1}/{args.repeat} failed: {exc}", file=sys.stderr, flush=True)
            continue
        rounds.append(figures)
        shown = ", ".join(f"{k} {v:.1f}s" for k, v in figures.items())
        print(f"round {index + 1}/{args.repeat}: {shown}", file=sys.stderr, flush=True)
    if not rounds:
        print("every round failed; no figures", file=sys.stderr)
        return 1
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    ratio = median["full"] / median["mutmut"]
    rows = [
        ("plain `mutmut run --max-children 2` (reference)", median["mutmut"], "", ""),
        (
            "full kit (`python -m mutation run --force`)",
            median["full"],
            "<= 60 s",
            median["full"] <= 60,
        ),
        ("full kit / plain mutmut", ratio, "<= 0.8x", ratio <= 0.8),
        (
            "review of one changed function (`--since HEAD`)",
            median["review"],
            "<= 15 s",
            median["review"] <= 15,
        ),
        ("unchanged re-run", median["unchanged"], "<= 2 s", median["unchanged"] <= 2),
        ("incremental full run after that change", median["incremental"], "", ""),
    ]
    print(f"| measurement (median of {len(rounds)} rounds) | figure | target | met |")
    print("|---|---:|---|---|")
    for name, value, target, met in rows:
        figure = f"{value:.2f}x" if name.endswith("plain mutmut") else f"{value:.1f} s"
        verdict = "" if met == "" else ("yes" if met else "**no**")
        print(f"| {name} | {figure} | {target} | {verdict} |")
    load = os.getloadavg()
    print(
        f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
