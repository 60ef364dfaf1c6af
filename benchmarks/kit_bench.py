"""Benchmark of the mutation kit against a plain ``mutmut run`` (``make bench-kit``).

On copies of the working tree (tracked files plus the built extension), in
one run of this script, each measurement repeated ``--repeat`` times:

- plain ``mutmut run --max-children JOBS`` (the reference);
- the full kit, ``python -m mutation run --force`` (``make mutate`` without
  its set-up);
- an unchanged re-run, ``python -m mutation run``;
- a review of one changed function, ``python -m mutation run --since HEAD``
  after a comment is added inside ``_parse_backend_value`` (three times per
  round, the median kept);
- SIGINT to a forced run during its baseline and during execution: seconds
  from the signal to the kit's exit (130).

Prints a Markdown table of medians with the targets (full <= 60 s and
<= 0.8x plain mutmut; review <= 15 s; unchanged <= 2 s; interrupt <= 2 s)
and the load. ``--interrupt-only`` measures just the interrupts (minutes,
not the 40 minutes of a full round on the engine's suites); ``--no-reference``
skips plain mutmut (no ratio; a round is then a quarter of an hour).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from benchmarks/: the kit's config reader

from mutation.config import load_config  # noqa: E402

CHANGED_FILE = "cuprum/_backend.py"
CHANGED_MARKER = "    normalised = raw.strip().lower()\n"


Row = tuple[str, float, str, bool | str]
"""A table row: measurement, figure, target, met ("" where no target)."""


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


def _wait_for_file(
    where: pathlib.Path, name: str, process: subprocess.Popen[str], phase: str
) -> None:
    deadline = time.monotonic() + 900
    while True:
        try:
            if any(where.rglob(name)):
                return
        except FileNotFoundError:  # the kit removed a directory as it was listed
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            msg = f"the kit never reached its {phase} (exit {process.poll()})"
            raise RoundFailedError(msg)
        time.sleep(0.05)


def _interrupt(kit: pathlib.Path, scratch: pathlib.Path, jobs: int, phase: str) -> float:
    """Return seconds from SIGINT (sent during ``phase``) to the kit's exit 130."""
    children_tmp = scratch / f"tmp-{phase}"
    children_tmp.mkdir()
    # The kit's scratch copies go under TMPDIR: their files tell the phase.
    marker = "_kit_session.py" if phase == "baseline" else ".kit-executed.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "mutation", "run", "--force", "--jobs", str(jobs)],
        cwd=kit,
        env={**_env(), "TMPDIR": str(children_tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_file(children_tmp, marker, process, phase)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 130:
        msg = f"SIGINT during the {phase}: exit {process.returncode}:\n{stderr[-2000:]}"
        raise RoundFailedError(msg)
    return took


def _interrupt_round(scratch: pathlib.Path, jobs: int) -> dict[str, float]:
    kit = _copy(scratch / "kit")
    return {
        f"interrupt-{phase}": _interrupt(kit, scratch, jobs, phase)
        for phase in ("baseline", "execute")
    }


REVIEWS_PER_ROUND = 3
"""Reviews timed per round (median kept): seconds each, against a full
run's quarter of an hour."""


def _one_round(scratch: pathlib.Path, jobs: int, *, reference: bool = True) -> dict[str, float]:
    python = sys.executable
    figures: dict[str, float] = {}
    if reference:
        mutmut = str(pathlib.Path(python).with_name("mutmut"))
        plain = _copy(scratch / "plain")
        figures["mutmut"] = _timed([mutmut, "run", "--max-children", str(jobs)], plain)
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
    reviews = [_timed([*run, "--since", "HEAD"], kit, ok=(0, 1)) for _ in range(REVIEWS_PER_ROUND)]
    figures["review"] = statistics.median(reviews)
    print(f"reviews: {', '.join(f'{r:.1f}s' for r in reviews)}", file=sys.stderr, flush=True)
    figures["incremental"] = _timed(run, kit, ok=(0, 1))
    figures.update(_interrupt_round(scratch, jobs))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median reported)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="workers for mutmut and the kit (default: setup.cfg's [mutation] jobs)",
    )
    parser.add_argument("--interrupt-only", action="store_true", help="measure only SIGINT to exit")
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the plain mutmut run (about 21 minutes on this tree): no ratio",
    )
    args = parser.parse_args(argv)
    if args.jobs is None:
        args.jobs = load_config(ROOT).jobs

    def measure(scratch: pathlib.Path, jobs: int) -> dict[str, float]:
        if args.interrupt_only:
            return _interrupt_round(scratch, jobs)
        return _one_round(scratch, jobs, reference=not args.no_reference)

    rounds: list[dict[str, float]] = []
    for index in range(args.repeat):
        try:
            with tempfile.TemporaryDirectory(prefix="kit-bench-") as scratch:
                figures = measure(pathlib.Path(scratch), args.jobs)
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
    interrupts: list[Row] = [
        (f"SIGINT during {phase} to exit 130", median[key], "<= 2 s", median[key] <= 2)
        for phase, key in (
            ("the baseline", "interrupt-baseline"),
            ("execution", "interrupt-execute"),
        )
        if key in median
    ]
    rows = interrupts if args.interrupt_only else [*_full_rows(median), *interrupts]
    _print_table(rows, len(rounds))
    return 0


def _full_rows(median: dict[str, float]) -> list[Row]:
    reference: list[Row] = []
    if "mutmut" in median:
        ratio = median["full"] / median["mutmut"]
        reference = [
            ("plain `mutmut run` (reference)", median["mutmut"], "", ""),
            ("full kit / plain mutmut", ratio, "<= 0.8x", ratio <= 0.8),
        ]
    return [
        *reference[:1],
        (
            "full kit (`python -m mutation run --force`)",
            median["full"],
            "<= 60 s",
            median["full"] <= 60,
        ),
        *reference[1:],
        (
            "review of one changed function (`--since HEAD`)",
            median["review"],
            "<= 15 s",
            median["review"] <= 15,
        ),
        ("unchanged re-run", median["unchanged"], "<= 2 s", median["unchanged"] <= 2),
        ("incremental full run after that change", median["incremental"], "", ""),
    ]


def _print_table(rows: list[Row], rounds: int) -> None:
    print(f"| measurement (median of {rounds} rounds) | figure | target | met |")
    print("|---|---:|---|---|")
    for name, value, target, met in rows:
        figure = f"{value:.2f}x" if name.endswith("plain mutmut") else f"{value:.1f} s"
        verdict = "" if met == "" else ("yes" if met else "**no**")
        print(f"| {name} | {figure} | {target} | {verdict} |")
    load = os.getloadavg()
    print(
        f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
