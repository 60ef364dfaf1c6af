"""Reading ``cargo test`` output: which Rust tests failed, and why."""

from __future__ import annotations

import re

from mutation.results import Killer

_RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+)")
_FAILED = re.compile(r"^test (\S+) \.\.\. FAILED")
_STDOUT = re.compile(r"^---- (\S+) stdout ----$")
_PANIC = re.compile(r"panicked at ")
_CRASHED = re.compile(r"process didn't exit successfully: `([^`]+)` \((.+)\)")


def _binary_name(source: str, lib_name: str) -> str:
    """Name a test binary from cargo's ``Running`` line.

    ``tests/pump/main.rs`` and ``.../deps/pump-f9b6...`` give ``pump``;
    ``src/lib.rs`` and the library's own ``deps/<lib>-<hash>`` give ``lib``.
    """
    path = source.strip("`")
    if path.endswith("/main.rs"):
        return path.rsplit("/", 2)[-2]
    name = re.sub(r"-[0-9a-f]{16}$", "", path.rsplit("/", 1)[-1]).removesuffix(".rs")
    return "lib" if name in {"lib", lib_name} else name


def failed_tests(output: str, lib_name: str = "_rust_backend_native") -> list[Killer]:
    """Every test that ``cargo test`` reported as FAILED, with its panic message.

    Names are qualified by their test binary (``pump_syscalls::eintr_...``,
    ``lib::tests::is_available_says_yes``) so that a test is named the same
    way whichever binary it lives in.
    """
    binary = ""
    failed: dict[str, str] = {}
    messages: dict[str, str] = {}
    lines = output.splitlines()
    current: str | None = None
    for index, line in enumerate(lines):
        running = _RUNNING.match(line)
        if running:
            binary = _binary_name(running.group(1), lib_name)
            current = None
            continue
        failure = _FAILED.match(line)
        if failure:
            failed[f"{binary}::{failure.group(1)}"] = ""
            continue
        header = _STDOUT.match(line)
        if header:
            current = f"{binary}::{header.group(1)}"
            continue
        if current is not None and _PANIC.search(line) and current not in messages:
            following = lines[index + 1 : index + 4]
            text = " ".join(part.strip() for part in following if part.strip())
            messages[current] = text.split("note: run with")[0].strip() or line.strip()
    killers = [
        Killer(test=name, message=messages.get(name, "test failed"), language="rust")
        for name in failed
    ]
    # A test binary that died (a signal, an abort on a closed descriptor)
    # without naming a failed test: the binary itself is the killer.
    for crash in _CRASHED.finditer(output):
        crashed = _binary_name(crash.group(1).split(" ", 1)[0], lib_name)
        if not any(k.test.startswith(f"{crashed}::") for k in killers):
            killers.append(
                Killer(
                    test=f"{crashed} (test binary)",
                    message=f"the test binary did not exit successfully ({crash.group(2)})",
                    language="rust",
                )
            )
    return killers


def test_count(output: str) -> int:
    """How many tests passed over every ``test result:`` line."""
    return sum(int(m) for m in re.findall(r"^test result: \w+\. (\d+) passed", output, re.M))
