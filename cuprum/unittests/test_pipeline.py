"""Pipelines of real processes, on every stream backend.

Every test taking ``stream_backend`` runs once with the pure-Python pump and
once with the Rust pump (skipped when the extension is not built).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import pathlib
import signal
import time

import pytest

from cuprum import (
    CAT,
    ECHO,
    FALSE,
    GREP,
    HEAD,
    PRINTF,
    SLEEP,
    SORT,
    TR,
    TRUE,
    WC,
    YES,
    CommandResult,
    Pipeline,
    PipelineResult,
    Program,
    StreamBackend,
    TimeoutExpired,
    sh,
)
from tests.helpers.processes import (
    TEST_CATALOGUE,
    child_processes,
    kill_quietly,
    open_fds,
    script,
)

LARGE_PAYLOAD_BYTES = 20 * 1024 * 1024
MISSING_FILE = "/nonexistent/cuprum-test-file"

cat = sh.make(CAT)
wc = sh.make(WC)
head = sh.make(HEAD)
sha256sum = sh.make("sha256sum", catalogue=TEST_CATALOGUE)


def exit_codes(result: PipelineResult) -> list[int]:
    return [stage.exit_code for stage in result.stages]


@pytest.fixture(scope="module")
def large_payload(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("payload") / "random.bin"
    path.write_bytes(os.urandom(LARGE_PAYLOAD_BYTES))
    return path


# --- composition --------------------------------------------------------------


def test_piping_commands_builds_a_pipeline_in_order() -> None:
    first, second, third = cat("a"), sh.make(SORT)(), wc("-l")

    two = first | second
    three = two | third

    assert isinstance(two, Pipeline)
    assert two.stages == (first, second)
    assert three.stages == (first, second, third)
    assert two.stages == (first, second)  # composing does not mutate
    assert repr(three) == "cat a | sort | wc -l"


def test_pipelines_concatenate() -> None:
    left = cat("x") | sh.make(SORT)()
    right = sh.make(TR)("a", "b") | wc()

    assert (left | right).stages == left.stages + right.stages
    assert (cat("y") | right).stages == (cat("y"), *right.stages)


def test_piping_into_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        cat() | "wc"  # type: ignore[operator]
    with pytest.raises(TypeError):
        (cat() | wc()) | 42  # type: ignore[operator]


def test_an_empty_pipeline_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^a pipeline needs at least one command$"):
        Pipeline(())


# --- stage counts ----------------------------------------------------------------

STAGES = [
    sh.make(PRINTF)("c\nb\na\n"),
    sh.make(SORT)(),
    sh.make(TR)("a-z", "A-Z"),
    head("-n", "2"),
]
OUTPUTS = ["c\nb\na\n", "a\nb\nc\n", "A\nB\nC\n", "A\nB\n"]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_pipelines_of_one_to_four_stages(stream_backend: StreamBackend, count: int) -> None:
    pipeline = Pipeline(tuple(STAGES[:count]))

    result = pipeline.run_sync()

    assert result.stdout == OUTPUTS[count - 1]
    assert exit_codes(result) == [0] * count
    assert result.ok is True
    assert result.failure_index is None
    assert [stage.argv for stage in result.stages] == [s.argv for s in STAGES[:count]]
    assert [stage.program for stage in result.stages] == [s.program for s in STAGES[:count]]
    assert [stage.stdout for stage in result.stages[:-1]] == [""] * (count - 1)
    assert result.stages[-1].stdout == result.stdout
    assert len({stage.pid for stage in result.stages}) == count


def test_async_and_sync_runs_agree(stream_backend: StreamBackend) -> None:
    pipeline = sh.make(PRINTF)("b\na\n") | sh.make(SORT)()

    sync_result = pipeline.run_sync()
    async_result = asyncio.run(pipeline.run())

    assert sync_result.stdout == async_result.stdout == "a\nb\n"
    assert exit_codes(sync_result) == exit_codes(async_result) == [0, 0]


def test_every_stage_stderr_is_captured(stream_backend: StreamBackend) -> None:
    pipeline = cat(MISSING_FILE) | cat("-", MISSING_FILE) | wc("-l")

    result = pipeline.run_sync()

    message = f"cat: {MISSING_FILE}: No such file or directory\n"
    assert [stage.stderr for stage in result.stages] == [message, message, ""]
    assert exit_codes(result) == [1, 1, 0]
    assert result.stdout == "0\n"
    assert result.failure_index == 0


def test_stage_environment_and_cwd_apply_to_every_stage(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "in.txt").write_text("from cwd\n", encoding="utf-8")
    printenv = sh.make("printenv", catalogue=TEST_CATALOGUE)
    pipeline = cat("in.txt") | cat("-", "in.txt") | cat("-")

    result = pipeline.run_sync(cwd=tmp_path)
    env_result = (printenv("CUPRUM_X") | cat()).run_sync(env={"CUPRUM_X": "v"})

    assert result.stdout == "from cwd\nfrom cwd\n"
    assert env_result.stdout == "v\n"


def test_echo_copies_the_last_stage_output(
    stream_backend: StreamBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    result = (sh.make(PRINTF)("b\na\n") | sh.make(SORT)()).run_sync(echo=True)

    assert result.stdout == "a\nb\n"
    assert capsys.readouterr().out == "a\nb\n"


def test_capture_false_inherits_the_last_stage_output(
    stream_backend: StreamBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    result = (sh.make(PRINTF)("b\na\n") | sh.make(SORT)()).run_sync(capture=False)

    assert result.stdout == ""
    assert exit_codes(result) == [0, 0]
    assert capfd.readouterr().out == "a\nb\n"


# --- large and binary payloads ------------------------------------------------


@pytest.mark.slow
def test_large_binary_payload_byte_count(
    stream_backend: StreamBackend, large_payload: pathlib.Path
) -> None:
    result = (cat(large_payload) | cat() | cat() | wc("-c")).run_sync()

    assert result.stdout == f"{LARGE_PAYLOAD_BYTES}\n"
    assert exit_codes(result) == [0, 0, 0, 0]


@pytest.mark.slow
def test_large_binary_payload_is_byte_exact(
    stream_backend: StreamBackend, large_payload: pathlib.Path
) -> None:
    expected = hashlib.sha256(large_payload.read_bytes()).hexdigest()

    result = (cat(large_payload) | cat() | cat() | sha256sum()).run_sync()

    assert result.stdout == f"{expected}  -\n"
    assert result.ok is True


def test_large_text_payload_is_captured_exactly(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    text = base64.encodebytes(os.urandom(3 * 1024 * 1024 + 7)).decode("ascii")
    source = tmp_path / "text.b64"
    source.write_text(text, encoding="ascii")

    result = (cat(source) | cat() | cat()).run_sync()

    assert len(result.stdout) == len(text)
    assert result.stdout == text


@pytest.mark.parametrize("count", [0, 1, 65535, 65536, 65537, 1_000_003])
def test_binary_prefix_byte_count(
    stream_backend: StreamBackend, large_payload: pathlib.Path, count: int
) -> None:
    result = (head("-c", str(count), large_payload) | cat() | wc("-c")).run_sync()

    assert result.stdout == f"{count}\n"


def test_binary_output_is_decoded_with_replacement(
    stream_backend: StreamBackend, large_payload: pathlib.Path
) -> None:
    count = 200_001
    data = large_payload.read_bytes()[:count]

    result = (head("-c", str(count), large_payload) | cat()).run_sync()

    assert result.stdout == data.decode("utf-8", errors="replace")


def test_multibyte_characters_split_across_reads_decode(
    stream_backend: StreamBackend, tmp_path: pathlib.Path
) -> None:
    # 3-byte characters never line up with 64 KiB reads.
    text = "€" * 100_000 + "\n" + "🐍" * 30_001
    source = tmp_path / "utf8.txt"
    source.write_text(text, encoding="utf-8")

    single = cat(source).run_sync()
    piped = (cat(source) | cat() | cat()).run_sync()

    assert single.stdout == text
    assert piped.stdout == text


# --- early exit and failures --------------------------------------------------


def test_downstream_exiting_early_ends_the_pipeline(
    stream_backend: StreamBackend,
) -> None:
    result = (sh.make(YES)() | head("-n", "1")).run_sync(timeout=20)

    assert result.stdout == "y\n"
    assert exit_codes(result) == [-signal.SIGPIPE, 0]
    assert result.ok is True
    assert result.failure_index is None


def test_early_exit_propagates_through_middle_stages(
    stream_backend: StreamBackend,
) -> None:
    pipeline = sh.make(YES)("abc") | cat() | sh.make(TR)("a", "z") | head("-n", "2")

    result = pipeline.run_sync(timeout=20)

    assert result.stdout == "zbc\nzbc\n"
    assert exit_codes(result) == [-signal.SIGPIPE] * 3 + [0]
    assert result.ok is True


def test_downstream_reading_a_prefix_of_endless_input(
    stream_backend: StreamBackend,
) -> None:
    result = (sh.make(YES)() | head("-c", "1000000") | wc("-c")).run_sync(timeout=20)

    assert result.stdout == "1000000\n"
    assert exit_codes(result) == [-signal.SIGPIPE, 0, 0]
    assert result.ok is True


def test_downstream_that_never_reads(stream_backend: StreamBackend) -> None:
    result = (sh.make(YES)() | sh.make(TRUE)()).run_sync(timeout=20)

    assert exit_codes(result) == [-signal.SIGPIPE, 0]
    assert result.ok is True


def test_failing_middle_stage_is_reported(stream_backend: StreamBackend) -> None:
    pipeline = sh.make(PRINTF)("a\nb\n") | sh.make(GREP)("zzz") | wc("-l")

    result = pipeline.run_sync(timeout=20)

    assert exit_codes(result) == [0, 1, 0]
    assert result.stdout == "0\n"
    assert result.ok is False
    assert result.failure_index == 1


def test_failing_last_stage_is_reported(stream_backend: StreamBackend) -> None:
    result = (sh.make(PRINTF)("x\n") | sh.make(FALSE)()).run_sync(timeout=20)

    assert result.stages[1].exit_code == 1
    assert result.failure_index == 1
    assert result.ok is False


def test_first_of_several_failures_is_the_failure_index(
    stream_backend: StreamBackend,
) -> None:
    pipeline = cat(MISSING_FILE) | sh.make(GREP)("x") | sh.make(FALSE)()

    result = pipeline.run_sync(timeout=20)

    assert exit_codes(result) == [1, 1, 1]
    assert result.failure_index == 0


def test_upstream_killed_by_another_signal_is_a_failure(
    stream_backend: StreamBackend,
) -> None:
    upstream = script("import os, signal; os.kill(os.getpid(), signal.SIGTERM)")

    result = (upstream | cat()).run_sync(timeout=20)

    assert exit_codes(result) == [-signal.SIGTERM, 0]
    assert result.failure_index == 0


def stage(exit_code: int) -> CommandResult:
    return CommandResult(Program("x"), ("x",), exit_code, 1, "", "")


@pytest.mark.parametrize(
    ("codes", "failure_index"),
    [
        ([0], None),
        ([1], 0),
        ([-13], 0),  # the last stage never dies of SIGPIPE legitimately
        ([0, 0, 0], None),
        ([-13, 0], None),
        ([-13, -13, 0], None),
        ([0, -13], 1),
        ([-13, -13, -13], 2),
        ([-9, 0], 0),
        ([-15, 0], 0),
        ([13, 0], 0),  # exit status 13 is not death by SIGPIPE
        ([0, 2, 1], 1),
        ([-13, 1, 0], 1),
    ],
)
def test_failure_index_rules(codes: list[int], failure_index: int | None) -> None:
    result = PipelineResult(stages=tuple(stage(c) for c in codes), stdout="")

    assert result.failure_index == failure_index
    assert result.ok is (failure_index is None)


# --- timeouts -------------------------------------------------------------------


def test_pipeline_timeout_raises_with_partial_output(
    stream_backend: StreamBackend,
) -> None:
    slow_last = script(
        "import sys, time\n"
        "sys.stdout.write(sys.stdin.read())\n"
        "sys.stdout.flush()\n"
        "print('last stage waiting', file=sys.stderr, flush=True)\n"
        "time.sleep(30)\n"
    )
    pipeline = sh.make(PRINTF)("a\nb\n") | cat("-", MISSING_FILE) | slow_last
    children_before = child_processes()
    fds_before = open_fds()
    started = time.monotonic()

    with pytest.raises(TimeoutExpired) as excinfo:
        pipeline.run_sync(timeout=1.0)

    elapsed = time.monotonic() - started
    error = excinfo.value
    assert error.stdout == "a\nb\n"
    assert error.stderr == (
        "",
        f"cat: {MISSING_FILE}: No such file or directory\n",
        "last stage waiting\n",
    )
    assert error.argv == tuple(s.argv for s in pipeline.stages)
    assert error.timeout == 1.0
    described = " | ".join(" ".join(s.argv) for s in pipeline.stages)
    assert str(error) == f"{described!r} timed out after 1 s"
    assert 1.0 <= elapsed < 4.0
    assert child_processes() == children_before
    assert open_fds() == fds_before


def test_pipeline_timeout_stops_every_blocked_stage(
    stream_backend: StreamBackend,
) -> None:
    # sleep never reads, so every stage upstream of it blocks on a full pipe.
    pipeline = sh.make(YES)() | sh.make(TR)("y", "n") | cat() | sh.make(SLEEP)("30")
    children_before = child_processes()
    fds_before = open_fds()
    started = time.monotonic()

    with pytest.raises(TimeoutExpired) as excinfo:
        pipeline.run_sync(timeout=0.5)

    assert time.monotonic() - started < 3.5
    assert excinfo.value.stdout == ""
    assert excinfo.value.stderr == ("", "", "", "")
    assert child_processes() == children_before
    assert open_fds() == fds_before


def test_pipeline_timeout_is_honoured_when_a_grandchild_holds_a_hop(
    stream_backend: StreamBackend,
    tmp_path: pathlib.Path,
    request: pytest.FixtureRequest,
) -> None:
    # The first stage starts a background process that inherits its stdout
    # (the hop) and outlives it; the timeout must still end the run promptly.
    pid_file = tmp_path / "grandchild"
    upstream = script(
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '5'])\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{child.pid}}\\n')\n"
        "print('upstream', flush=True)\n"
        "time.sleep(30)\n"
    )
    fds_before = open_fds()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutExpired) as excinfo:
            (upstream | cat()).run_sync(timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        kill_quietly(int(pid_file.read_text(encoding="utf-8")))

    assert excinfo.value.stdout == "upstream\n"
    assert elapsed < 4.5
    assert open_fds() == fds_before


def test_cancelling_a_pipeline_stops_every_stage(
    stream_backend: StreamBackend,
) -> None:
    pipeline = sh.make(YES)() | cat() | sh.make(SLEEP)("30")
    children_before = child_processes()

    async def scenario() -> None:
        fds_before = open_fds()
        task = asyncio.create_task(pipeline.run())
        deadline = time.monotonic() + 10
        while len(child_processes()) < len(children_before) + 3:
            assert time.monotonic() < deadline, "the stages did not all start"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # let bytes flow through both hops
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert open_fds() == fds_before

    asyncio.run(scenario())

    assert child_processes() == children_before


def test_many_pipelines_in_parallel(stream_backend: StreamBackend) -> None:
    async def scenario() -> list[PipelineResult]:
        runs = [
            (sh.make(ECHO)(str(n)) | sh.make(TR)("0-9", "a-j") | cat()).run() for n in range(20)
        ]
        return await asyncio.gather(*runs)

    results = asyncio.run(scenario())

    assert [r.stdout for r in results] == [
        f"{str(n).translate(str.maketrans('0123456789', 'abcdefghij'))}\n" for n in range(20)
    ]
    assert all(r.ok for r in results)
