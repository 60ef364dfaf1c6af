"""Throughput benchmark: direct kernel pipe versus cuprum's stream backends.

For a 2-stage pipeline (``head -c N /dev/zero | wc -c``), a 3-stage one
(``head -c N /dev/zero | cat | wc -c``) and a 16-stage one (14 ``cat``
stages in the middle) this measures, in one run:

(a) a direct kernel pipe between the processes (``subprocess.Popen`` with the
    stdout of one stage wired to the stdin of the next; no parent pump);
(b) cuprum with ``CUPRUM_STREAM_BACKEND=python``;
(c) cuprum with ``CUPRUM_STREAM_BACKEND=rust`` (skipped, with a note, when the
    native extension is not built).

The pathways take turns within each of ``--repeat`` rounds, so a change in
the machine's load hits them alike; each figure is the median of its runs,
and every run checks that ``wc -c`` reports exactly ``N`` bytes (a wrong
result fails the benchmark). The targets (Rust >= 0.9x and Python >= 0.5x
of the direct pipe, for 2 and 3 stages) are informative only; the 16-stage
row has none. The load average before and after is printed and recorded,
because the machine may be shared.

It also measures the parent's peak RSS growth while pumping
``--rss-gigabytes`` GiB through ``head -c | cat | wc -c`` with each cuprum
backend, each in a fresh child Python process (this script, run in a hidden
``--rss-child BACKEND BYTES`` mode), so that the growth reflects only that run.

Usage::

    python benchmarks/pipeline_throughput.py [--megabytes N] [--repeat R]
        [--out PATH] [--rss-gigabytes G]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import typing as typ

MEGABYTE = 1_000_000
MIB = 1024 * 1024
GIB = 1024 * MIB
BACKEND_ENV_VAR = "CUPRUM_STREAM_BACKEND"
BACKENDS: tuple[str, ...] = ("python", "rust")
TARGETS: dict[str, float] = {"rust": 0.9, "python": 0.5}
RSS_LIMIT_MIB = 64.0
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "results" / "throughput.json"
PIPELINE_STAGES: dict[str, int] = {"2-stage": 2, "3-stage": 3, "16-stage": 16}
PIPELINES: tuple[str, ...] = tuple(PIPELINE_STAGES)
PIPELINE_TEXT: dict[str, str] = {
    "2-stage": "head -c N /dev/zero | wc -c",
    "3-stage": "head -c N /dev/zero | cat | wc -c",
    "16-stage": "head -c N /dev/zero | cat (x14) | wc -c",
}
STDIN_CASE = "stdin"
PIPELINE_TEXT[STDIN_CASE] = "cat < FILE | wc -c (cuprum: stdin=FILE)"
TARGETED: frozenset[str] = frozenset({"2-stage", "3-stage"})
"""Pipelines the throughput targets apply to (issue 9)."""


class BenchmarkError(RuntimeError):
    """A pipeline produced a wrong result (the benchmark is then invalid)."""


def _check_count(output: bytes | str, expected: int, label: str) -> None:
    """Fail loudly unless ``wc -c`` output equals ``expected``.

    Parameters
    ----------
    output
        The raw standard output of ``wc -c``.
    expected
        The number of bytes that went into the pipeline.
    label
        Which measurement produced the output (for the error message).

    Raises
    ------
    BenchmarkError
        The count is missing or differs from ``expected``.
    """
    text = output.decode() if isinstance(output, bytes) else output
    try:
        got = int(text.split()[0])
    except (IndexError, ValueError) as exc:
        msg = f"{label}: unparsable wc -c output {text!r}"
        raise BenchmarkError(msg) from exc
    if got != expected:
        msg = f"{label}: wc -c reported {got} bytes, expected {expected}"
        raise BenchmarkError(msg)


def _stage_argv(stages: int, nbytes: int) -> list[list[str]]:
    """Return the argv of each stage of the ``stages``-stage pipeline."""
    head = ["head", "-c", str(nbytes), "/dev/zero"]
    return [head, *(["cat"] for _ in range(stages - 2)), ["wc", "-c"]]


def run_direct(stages: int, nbytes: int) -> float:
    """Run the pipeline over direct kernel pipes and time it.

    Parameters
    ----------
    stages
        Stages in all (at least 2).
    nbytes
        Bytes produced by ``head``.

    Returns
    -------
    float
        Elapsed wall-clock seconds.
    """
    argvs = _stage_argv(stages, nbytes)
    start = time.perf_counter()
    procs: list[subprocess.Popen[bytes]] = []
    upstream: typ.IO[bytes] | None = None
    for argv in argvs:
        proc = subprocess.Popen(argv, stdin=upstream, stdout=subprocess.PIPE)
        if upstream is not None:
            upstream.close()  # only the child keeps the read end
        upstream = proc.stdout
        procs.append(proc)
    out, _ = procs[-1].communicate()
    for proc in procs[:-1]:
        proc.wait()
    elapsed = time.perf_counter() - start
    codes = [proc.returncode for proc in procs]
    if any(codes):
        msg = f"direct {stages}-stage: exit codes {codes}"
        raise BenchmarkError(msg)
    _check_count(out, nbytes, f"direct {stages}-stage")
    return elapsed


def select_backend(name: str) -> None:
    """Point cuprum at backend ``name`` and check that it took effect.

    Parameters
    ----------
    name
        ``"python"`` or ``"rust"``.

    Raises
    ------
    BenchmarkError
        cuprum resolved a different backend.
    """
    from cuprum import _backend

    os.environ[BACKEND_ENV_VAR] = name
    _backend.get_stream_backend.cache_clear()
    _backend._check_rust_available.cache_clear()
    chosen = _backend.get_stream_backend()
    if chosen.value != name:
        msg = f"requested backend {name!r} but cuprum selected {chosen.value!r}"
        raise BenchmarkError(msg)


def rust_available() -> bool:
    """Return whether the native Rust extension is built and usable."""
    from cuprum import _backend

    _backend._check_rust_available.cache_clear()
    return _backend.is_rust_available()


def run_cuprum(stages: int, nbytes: int, label: str) -> float:
    """Run the pipeline through cuprum (current backend) and time it.

    Parameters
    ----------
    stages
        Stages in all (at least 2).
    nbytes
        Bytes produced by ``head``.
    label
        Which measurement this is (for error messages).

    Returns
    -------
    float
        Elapsed wall-clock seconds.
    """
    from cuprum import CAT, HEAD, WC, Pipeline, sh

    pipeline = Pipeline((sh.make(HEAD)("-c", str(nbytes), "/dev/zero"),))
    for _ in range(stages - 2):
        pipeline = pipeline | sh.make(CAT)()
    pipeline = pipeline | sh.make(WC)("-c")
    start = time.perf_counter()
    result = pipeline.run_sync()
    elapsed = time.perf_counter() - start
    if not result.ok:
        msg = f"{label}: pipeline failed at stage {result.failure_index}"
        raise BenchmarkError(msg)
    _check_count(result.stdout, nbytes, label)
    return elapsed


def median_rates(
    repeat: int, nbytes: int, runners: dict[str, typ.Callable[[], float]]
) -> dict[str, float]:
    """Time every runner ``repeat`` times, in turns; return median MB/s each.

    Parameters
    ----------
    repeat
        Rounds; in each, every runner runs once, in order.
    nbytes
        Bytes each run moves.
    runners
        Pathway name to a function that runs the pipeline once and returns
        its elapsed seconds.

    Returns
    -------
    dict[str, float]
        Pathway name to the median throughput in MB/s.
    """
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeat):
        for name, run in runners.items():
            seconds[name].append(run())
    return {name: nbytes / MEGABYTE / statistics.median(s) for name, s in seconds.items()}


def _run_selected(backend: str, *, stages: int, nbytes: int, label: str) -> float:
    """Select ``backend``, then run :func:`run_cuprum` once."""
    select_backend(backend)
    return run_cuprum(stages, nbytes, label)


def stdin_supported() -> bool:
    """Return whether this cuprum's ``Pipeline.run`` accepts ``stdin=``."""
    from cuprum import Pipeline

    return "stdin" in inspect.signature(Pipeline.run).parameters


@contextlib.contextmanager
def payload_file(nbytes: int) -> typ.Iterator[pathlib.Path]:
    """Write an ``nbytes`` file of zeros for the stdin row; remove it after."""
    chunk = bytes(MIB)
    with tempfile.TemporaryDirectory(prefix="cuprum-bench-") as directory:
        path = pathlib.Path(directory) / "payload.bin"
        with path.open("wb") as handle:
            for start in range(0, nbytes, MIB):
                handle.write(chunk[: min(MIB, nbytes - start)])
        yield path


def run_direct_stdin(source: pathlib.Path, nbytes: int) -> float:
    """Time ``cat < source | wc -c`` over a direct kernel pipe."""
    start = time.perf_counter()
    with source.open("rb") as stdin:
        cat = subprocess.Popen(["cat"], stdin=stdin, stdout=subprocess.PIPE)
    assert cat.stdout is not None
    wc = subprocess.Popen(["wc", "-c"], stdin=cat.stdout, stdout=subprocess.PIPE)
    cat.stdout.close()
    out, _ = wc.communicate()
    cat.wait()
    elapsed = time.perf_counter() - start
    if cat.returncode or wc.returncode:
        msg = f"direct {STDIN_CASE}: exit codes {[cat.returncode, wc.returncode]}"
        raise BenchmarkError(msg)
    _check_count(out, nbytes, f"direct {STDIN_CASE}")
    return elapsed


def _run_selected_stdin(backend: str, *, source: pathlib.Path, nbytes: int, label: str) -> float:
    """Select ``backend``, then time ``cat | wc -c`` fed ``source`` as stdin."""
    from cuprum import CAT, WC, sh

    select_backend(backend)
    pipeline = sh.make(CAT)() | sh.make(WC)("-c")
    run = typ.cast(typ.Any, pipeline.run_sync)  # stdin= is newer than this script's types
    start = time.perf_counter()
    result = run(stdin=source)
    elapsed = time.perf_counter() - start
    if not result.ok:
        msg = f"{label}: pipeline failed at stage {result.failure_index}"
        raise BenchmarkError(msg)
    _check_count(result.stdout, nbytes, label)
    return elapsed


def _rows(name: str, nbytes: int, rates: dict[str, float]) -> list[dict[str, typ.Any]]:
    """One table row per pathway of ``name``, as ratios to the direct pipe."""
    base = rates["direct"]
    rows = []
    for pathway, rate in rates.items():
        ratio = rate / base
        target = TARGETS.get(pathway) if name in TARGETED else None
        rows.append(
            {
                "pipeline": name,
                "command": PIPELINE_TEXT[name],
                "pathway": pathway if pathway == "direct" else f"cuprum-{pathway}",
                "seconds": nbytes / MEGABYTE / rate,
                "mb_per_s": rate,
                "ratio": ratio,
                "target": target,
                "status": None if target is None else ("PASS" if ratio >= target else "MISS"),
            }
        )
    return rows


def rss_child(backend: str, nbytes: int) -> int:
    """Hidden mode: pump ``nbytes`` through cuprum and report peak RSS.

    Prints one JSON object with ``before_kib`` and ``after_kib``
    (``ru_maxrss`` of this process, KiB on Linux) to stdout.

    Parameters
    ----------
    backend
        ``"python"`` or ``"rust"``.
    nbytes
        Bytes pumped through ``head -c | cat | wc -c``.

    Returns
    -------
    int
        Exit status (0).
    """
    select_backend(backend)
    from cuprum import CAT, HEAD, WC, sh  # import before the baseline reading

    del CAT, HEAD, WC, sh
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run_cuprum(3, nbytes, f"rss {backend}")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "after_kib": after}))
    return 0


def measure_rss(backend: str, nbytes: int) -> dict[str, float]:
    """Run :func:`rss_child` in a fresh interpreter and collect its figures.

    Parameters
    ----------
    backend
        ``"python"`` or ``"rust"``.
    nbytes
        Bytes to pump.

    Returns
    -------
    dict[str, float]
        ``before_mib``, ``after_mib`` and ``growth_mib``.
    """
    proc = subprocess.run(
        [sys.executable, __file__, "--rss-child", backend, str(nbytes)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        msg = f"rss child ({backend}) failed: {proc.stderr.strip()}"
        raise BenchmarkError(msg)
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    before = data["before_kib"] / 1024
    after = data["after_kib"] / 1024
    return {"before_mib": before, "after_mib": after, "growth_mib": after - before}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500, help="MB per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs; median kept")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--rss-gigabytes", type=float, default=1.0, help="GiB for the RSS check")
    parser.add_argument(
        "--rss-child", nargs=2, metavar=("BACKEND", "BYTES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.megabytes <= 0 or args.repeat <= 0 or args.rss_gigabytes <= 0:
        parser.error("--megabytes, --repeat and --rss-gigabytes must be positive")
    return args


def _benchmark(args: argparse.Namespace) -> int:
    """Run the whole benchmark, print the table and write the JSON."""
    nbytes = args.megabytes * MEGABYTE
    repeat = args.repeat
    have_rust = rust_available()
    backends = [b for b in BACKENDS if b != "rust" or have_rust]
    if not have_rust:
        print(
            "note: Rust extension not built; skipping the rust pathway "
            "(build it with `.venv/bin/python tools/build_native.py`)"
        )
    load_before = os.getloadavg()
    print(
        f"payload {args.megabytes} MB ({nbytes} bytes), median of {repeat}, "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f}"
    )

    rows: list[dict[str, typ.Any]] = []
    cases = [
        (
            name,
            functools.partial(run_direct, PIPELINE_STAGES[name], nbytes),
            functools.partial(_run_selected, stages=PIPELINE_STAGES[name], nbytes=nbytes),
        )
        for name in PIPELINES
    ]
    with contextlib.ExitStack() as cleanup:
        if stdin_supported():
            source = cleanup.enter_context(payload_file(nbytes))
            cases.append(
                (
                    STDIN_CASE,
                    functools.partial(run_direct_stdin, source, nbytes),
                    functools.partial(_run_selected_stdin, source=source, nbytes=nbytes),
                )
            )
        else:
            print(f"note: {STDIN_CASE} row skipped: this cuprum's run() has no stdin= yet")
        for name, direct, cuprum in cases:
            runners: dict[str, typ.Callable[[], float]] = {"direct": direct}
            for backend in backends:
                label = f"cuprum[{backend}] {name}"
                runners[backend] = functools.partial(cuprum, backend, label=label)
            rows.extend(_rows(name, nbytes, median_rates(repeat, nbytes, runners)))
    load_after = os.getloadavg()

    print()
    print(f"load average after: {load_after[0]:.2f}")
    header = f"{'pipeline':<9} {'pathway':<14} {'MB/s':>9} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        goal = ""
        if row["target"] is not None:
            goal = f">= {row['target']:.1f}x {row['status']}"
        print(
            f"{row['pipeline']:<9} {row['pathway']:<14} {row['mb_per_s']:>9.1f} "
            f"{row['ratio']:>6.2f}x  {goal}"
        )

    rss_bytes = int(args.rss_gigabytes * GIB)
    print()
    print(
        f"peak parent RSS growth pumping {args.rss_gigabytes:g} GiB through "
        f"head -c | cat | wc -c (must stay bounded by buffers; "
        f"informative limit < {RSS_LIMIT_MIB:.0f} MiB)"
    )
    rss: dict[str, dict[str, typ.Any]] = {}
    for backend in backends:
        figures: dict[str, typ.Any] = dict(measure_rss(backend, rss_bytes))
        figures["status"] = "PASS" if figures["growth_mib"] < RSS_LIMIT_MIB else "MISS"
        rss[backend] = figures
        print(
            f"  cuprum-{backend:<7} before {figures['before_mib']:7.1f} MiB  "
            f"after {figures['after_mib']:7.1f} MiB  "
            f"growth {figures['growth_mib']:6.1f} MiB  {figures['status']}"
        )

    report = {
        "megabytes": args.megabytes,
        "bytes": nbytes,
        "repeat": repeat,
        "statistic": "median",
        "load_average": {"before": load_before, "after": load_after},
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rust_available": have_rust,
        "targets": TARGETS,
        "throughput": rows,
        "rss": {"bytes": rss_bytes, "limit_mib": RSS_LIMIT_MIB, "backends": rss},
    }
    out: pathlib.Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point.

    Parameters
    ----------
    argv
        Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns
    -------
    int
        0 on success (targets are informative); 1 if a result was wrong.
    """
    args = parse_args(argv)
    try:
        if args.rss_child is not None:
            backend, count = args.rss_child
            return rss_child(backend, int(count))
        return _benchmark(args)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
