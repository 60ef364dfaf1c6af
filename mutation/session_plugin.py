"""The kit's one pytest plugin: baseline recording and the mutant executor.

It is copied into the workspace and loaded with ``-p _kit_session``. Two
modes, chosen by the environment the kit sets:

``KIT_BASELINE_OUT``
    The unmutated baseline: every test runs normally; under coverage.py each
    test's lines are recorded in a dynamic context named by its node id, and
    each test's outcome and duration (setup + call + teardown) is written to
    the path given.

``KIT_PLAN``
    The executor: pytest collects once, then this plugin replaces the run
    loop. For each mutant of the plan it forks a worker in its own process
    group that activates the mutant (mutmut's ``MUTANT_UNDER_TEST``, or a
    catalogue mutant's code swapped into the live function), runs the
    mutant's tests in the order given and reports each one as it starts and
    ends. A test that overruns its own limit has its worker's process group
    killed and is a ``timeout``; in ``all`` mode a new worker carries on with
    the remaining tests. One JSON line per finished mutant is appended to
    ``KIT_OUT``.

This module is loaded inside the workspace, by path, so it imports only the
standard library, pytest and (for the coverage context) coverage.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import time
import types
import typing as typ

import pytest
from _pytest.runner import runtestprotocol

try:  # the copy beside this plugin in the workspace
    import _kit_orphans as orphans  # type: ignore[import-not-found]
except ImportError:  # imported from the kit's own package
    from mutation import orphans

# -- baseline ---------------------------------------------------------------

_baseline: dict[str, dict[str, typ.Any]] = {}


def _first_error_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    lines = [line for line in str(report.longreprtext or "").splitlines() if line.strip()]
    for line in lines:  # pytest's first "E" line is the failure itself
        if line.startswith("E "):
            return line[2:].strip()[:500]
    return (lines[-1] if lines else "")[:500]


def _switch_context(name: str) -> None:
    try:
        import coverage
    except ImportError:  # pragma: no cover - coverage is a dev dependency
        return
    current = coverage.Coverage.current()
    if current is not None:
        current.switch_context(name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> typ.Iterator[None]:
    """Name the coverage context after the running test (baseline only)."""
    del nextitem
    baseline = "KIT_BASELINE_OUT" in os.environ
    if baseline:
        _switch_context(item.nodeid)
    yield
    if baseline:
        _switch_context("")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record each test's first failing phase and its total duration."""
    if "KIT_BASELINE_OUT" not in os.environ:
        return
    entry = _baseline.setdefault(
        report.nodeid, {"outcome": "passed", "phase": "", "message": "", "duration": 0.0}
    )
    entry["duration"] += float(report.duration)
    if entry["outcome"] != "passed":
        return
    if report.failed:
        entry.update(outcome="failed", phase=report.when, message=_first_error_line(report))
    elif report.skipped and report.when in ("setup", "call"):
        entry.update(outcome="skipped", phase=report.when)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Record collection errors; a broken test module is a broken baseline."""
    if report.failed and "KIT_BASELINE_OUT" in os.environ:
        _baseline[report.nodeid or "<collection>"] = {
            "outcome": "failed",
            "phase": "collect",
            "message": _first_error_line(report) or "collection failed",
            "duration": 0.0,
        }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the baseline records where the kit asked."""
    del session
    path = os.environ.get("KIT_BASELINE_OUT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"exitstatus": int(exitstatus), "tests": _baseline}, handle)


# -- executor: the worker side ------------------------------------------------


class CatalogueSwapError(RuntimeError):
    """A catalogue mutant's code cannot be swapped into the live function."""


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_qualname == qualname:
                return const
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None


def _live_function(module: types.ModuleType, function: str) -> types.FunctionType:
    """Return the function object whose code a catalogue mutant replaces.

    In mutmut's trampolined copy the original body lives in
    ``x_<name>__mutmut_orig`` (methods: ``xǁClassǁname__mutmut_orig``); the
    public name is a trampoline that calls it. Elsewhere it is the function
    itself, possibly under decorators that keep ``__wrapped__``.
    """
    owner: typ.Any = module
    *classes, name = function.split(".")
    for cls in classes:
        owner = getattr(owner, cls)
    mangled = f"xǁ{'ǁ'.join(classes)}ǁ{name}" if classes else f"x_{name}"
    namespace = vars(owner)
    candidate = namespace.get(f"{mangled}__mutmut_orig", namespace.get(name))
    for attribute in ("__func__", "fget"):  # staticmethod/classmethod, property
        candidate = getattr(candidate, attribute, candidate)
    while hasattr(candidate, "__wrapped__"):
        candidate = candidate.__wrapped__
    if not isinstance(candidate, types.FunctionType):
        msg = f"{function} is not a plain function in {module.__name__}"
        raise CatalogueSwapError(msg)
    return candidate


def _swap_in(activation: dict[str, str]) -> None:
    """Replace a live function's code with its catalogue-mutated version."""
    import importlib

    module = importlib.import_module(activation["module"])
    compiled = compile(activation["source"], activation["path"], "exec", dont_inherit=True)
    code = _find_code(compiled, activation["function"])
    if code is None:
        msg = f"{activation['function']} not found in the mutated {activation['path']}"
        raise CatalogueSwapError(msg)
    target = _live_function(module, activation["function"])
    if len(code.co_freevars) != len(target.__code__.co_freevars):
        msg = f"the mutated {activation['function']} closes over other names"
        raise CatalogueSwapError(msg)
    target.__code__ = code


def _activate(job: dict[str, typ.Any]) -> None:
    activation = job["activation"]
    if activation["kind"] == "env":
        try:  # mutmut 3.8.1 also keeps it process-local (survives environ.clear())
            from mutmut.mutation.trampoline import set_mutant_under_test

            set_mutant_under_test(activation["name"])
        except ImportError:  # pragma: no cover - only outside mutmut's copy
            os.environ["MUTANT_UNDER_TEST"] = activation["name"]
    elif activation["kind"] == "code":
        _swap_in(activation)
    elif activation["kind"] == "none":  # already applied: the copy's file is mutated
        pass
    else:
        msg = f"unknown activation {activation['kind']!r}"
        raise CatalogueSwapError(msg)


def _send(fd: int, record: dict[str, typ.Any]) -> None:
    data = memoryview((json.dumps(record) + "\n").encode())
    while data:
        data = data[os.write(fd, data) :]


def _worker(
    fd: int, job: dict[str, typ.Any], tests: list[str], items: dict[str, pytest.Item]
) -> None:
    """Run in the forked child: activate, run the tests, report each."""
    try:
        _activate(job)
    except Exception as exc:  # any failure to activate is the mutant's error
        _send(fd, {"event": "error", "message": f"{type(exc).__name__}: {exc}"[:500]})
        return
    present = [items[node] for node in tests if node in items]
    for index, item in enumerate(present):
        following = present[index + 1] if index + 1 < len(present) else None
        _send(fd, {"event": "start", "test": item.nodeid})
        started = time.monotonic()
        reports = runtestprotocol(item, nextitem=following, log=False)
        failed = next((r for r in reports if r.failed), None)
        _send(
            fd,
            {
                "event": "end",
                "test": item.nodeid,
                "outcome": "failed" if failed else "passed",
                "phase": failed.when if failed else "",
                "message": _first_error_line(failed) if failed else "",
                "duration": round(time.monotonic() - started, 4),
            },
        )
        if failed is not None and job["mode"] == "first":
            return


# -- executor: the parent side ---------------------------------------------------

MAX_HANGS = 2
"""A mutant's tests stop at its second hang (its first in ``first`` mode)."""


class _Worker:
    """One forked worker running (part of) one mutant's tests."""

    def __init__(self, job: dict[str, typ.Any], tests: list[str], pid: int, fd: int) -> None:
        self.job = job
        self.tests = tests
        self.pid = pid
        self.fd = fd
        self.buffer = b""
        self.current: str | None = None
        self.deadline = float("inf")


class _Executor:
    def __init__(self, session: pytest.Session) -> None:
        with open(os.environ["KIT_PLAN"], encoding="utf-8") as handle:
            plan = json.load(handle)
        self.jobs: list[dict[str, typ.Any]] = plan["jobs"]
        self.limits: dict[str, float] = plan["limits"]
        self.default_limit = float(plan["default_limit"])
        self.workers_max = max(1, int(plan["workers"]))
        self.items = {item.nodeid: item for item in session.items}
        self.out = open(os.environ["KIT_OUT"], "a", encoding="utf-8")  # noqa: SIM115
        self.parent = os.getppid()
        self.running: dict[int, _Worker] = {}
        self.records: dict[str, dict[str, typ.Any]] = {}

    def spawn(self, job: dict[str, typ.Any], tests: list[str]) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: own process group, run, leave without clean-up
            code = 0
            try:
                os.setpgid(0, 0)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.close(read_fd)
                self.out.close()
                _worker(write_fd, job, tests, self.items)
            except BaseException as exc:  # anything at all is reported, then exit
                code = 1
                with contextlib.suppress(OSError):
                    _send(write_fd, {"event": "error", "message": repr(exc)[:500]})
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        with contextlib.suppress(OSError):  # also here: no race with the child's own call
            os.setpgid(pid, pid)
        os.close(write_fd)
        self.running[read_fd] = _Worker(job, tests, pid, read_fd)
        record = self.records.setdefault(
            job["id"], {"id": job["id"], "tests": [], "timeouts": [], "error": "", "ran": 0}
        )
        record.setdefault("started", time.monotonic())

    def kill(self, worker: _Worker) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signal.SIGKILL)

    def kill_all(self) -> None:
        for worker in list(self.running.values()):
            self.kill(worker)

    def handle(self, worker: _Worker, line: bytes) -> None:
        event = json.loads(line)
        record = self.records[worker.job["id"]]
        if event["event"] == "start":
            worker.current = event["test"]
            limit = self.limits.get(event["test"], self.default_limit)
            worker.deadline = time.monotonic() + limit
        elif event["event"] == "end":
            worker.current = None
            worker.deadline = float("inf")
            record["ran"] += 1
            if event["outcome"] == "failed":
                record["tests"].append(
                    {k: event[k] for k in ("test", "phase", "message", "duration")}
                )
        else:
            record["error"] = event["message"]

    def finish(self, worker: _Worker, *, timed_out: bool) -> None:
        del self.running[worker.fd]
        os.close(worker.fd)
        self.kill(worker)  # whatever the mutant left running in its group
        os.waitpid(worker.pid, 0)
        record = self.records[worker.job["id"]]
        remaining: list[str] = []
        if timed_out and worker.current is not None:
            record["timeouts"].append(worker.current)
            done = worker.tests.index(worker.current) + 1
            remaining = worker.tests[done:]
        # Every killer is sought past one hang, not past two: a mutant that
        # hangs test after test would otherwise cost a limit per test.
        if (
            remaining
            and worker.job["mode"] == "all"
            and not record["error"]
            and len(record["timeouts"]) < MAX_HANGS
        ):
            self.spawn(worker.job, remaining)
            return
        record["duration"] = round(time.monotonic() - record.pop("started"), 4)
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def read(self, worker: _Worker) -> None:
        chunk = os.read(worker.fd, 65536)
        if not chunk:
            self.finish(worker, timed_out=False)
            return
        worker.buffer += chunk
        *lines, worker.buffer = worker.buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self.handle(worker, line)

    def loop(self) -> None:
        pending = list(self.jobs)
        while pending or self.running:
            while pending and len(self.running) < self.workers_max:
                job = pending.pop(0)
                self.spawn(job, list(job["tests"]))
            ready, _, _ = select.select(list(self.running), [], [], 0.2)
            for fd in ready:
                if fd in self.running:
                    self.read(self.running[fd])
            now = time.monotonic()
            for worker in list(self.running.values()):
                if now > worker.deadline:
                    self.kill(worker)
                    self.finish(worker, timed_out=True)
            if os.getppid() != self.parent:  # the kit died: leave nothing behind
                self.kill_all()
                os._exit(130)


def _stop(signum: int, frame: types.FrameType | None) -> None:
    del frame
    executor = _current[0] if _current else None
    if executor is not None:
        executor.kill_all()
    orphans.reap_orphans()
    os._exit(128 + signum)


_current: list[_Executor] = []


def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Run the plan instead of the normal loop (executor mode only)."""
    if "KIT_PLAN" not in os.environ:
        return None
    executor = _Executor(session)
    _current.append(executor)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # A mutant's test may leave a process outside its worker's group (one
    # that shrugs off SIGTERM, in a session of its own): it becomes ours
    # when its parent dies, and is stopped when the session ends.
    orphans.become_subreaper()
    try:
        executor.loop()
    finally:
        executor.kill_all()
        executor.out.close()
        orphans.reap_orphans()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: a mutant may have left a thread the interpreter would wait for.
    os._exit(0)
