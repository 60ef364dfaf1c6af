"""Steps for features/core_pipelines.feature."""

from __future__ import annotations

import dataclasses
import re
import shlex

import pytest
from pytest_bdd import parsers, scenarios, then, when

from cuprum import (
    DEFAULT_CATALOGUE,
    Pipeline,
    PipelineResult,
    SafeCmd,
    TimeoutExpired,
    UnknownProgramError,
    sh,
)
from tests.helpers.processes import child_processes

scenarios("core_pipelines.feature")


@dataclasses.dataclass
class World:
    """What a scenario has done and seen so far."""

    children_before: dict[int, str] = dataclasses.field(default_factory=dict)
    result: PipelineResult | None = None
    error: BaseException | None = None

    def outcome(self) -> PipelineResult:
        assert self.error is None, f"the run raised {self.error!r}"
        assert self.result is not None, "nothing was run"
        return self.result


@pytest.fixture
def world() -> World:
    return World(children_before=child_processes())


def parse_pipeline(line: str) -> Pipeline:
    """Build a pipeline from ``prog arg ... | prog arg ...``.

    Quoting follows ``shlex`` so scenarios read naturally; every word becomes
    one argv element and an unquoted ``|`` separates stages. This is test
    notation only: cuprum itself never tokenises anything.
    """
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        else:
            stages[-1].append(token)
    commands: list[SafeCmd] = [sh.make(words[0])(*words[1:]) for words in stages]
    return Pipeline(tuple(commands))


def integers(text: str) -> list[int]:
    return [int(item) for item in text.split(",")]


def quoted_lines(text: str) -> str:
    """Turn ``"a", "b"`` into ``"a\\nb\\n"``."""
    return "".join(f"{item}\n" for item in re.findall(r'"([^"]*)"', text))


@when(parsers.parse("I run: {line}"))
def run_pipeline(world: World, line: str) -> None:
    world.result = parse_pipeline(line).run_sync(timeout=30)


@when(parsers.parse("I run with a timeout of {seconds:g} seconds: {line}"))
def run_pipeline_with_timeout(world: World, seconds: float, line: str) -> None:
    try:
        world.result = parse_pipeline(line).run_sync(timeout=seconds)
    except TimeoutExpired as error:
        world.error = error


@when(parsers.parse('I try to build a command for "{program}"'))
def try_to_build(world: World, program: str) -> None:
    try:
        sh.make(program)()
    except UnknownProgramError as error:
        world.error = error


@then("the run succeeds")
def run_succeeds(world: World) -> None:
    result = world.outcome()
    assert result.ok is True
    assert result.failure_index is None


@then(parsers.parse("the run fails at stage {number:d}"))
def run_fails_at(world: World, number: int) -> None:
    result = world.outcome()
    assert result.ok is False
    assert result.failure_index == number - 1


@then(parsers.parse("the output lines are {lines}"))
def output_lines(world: World, lines: str) -> None:
    assert world.outcome().stdout == quoted_lines(lines)


@then(parsers.parse("the stages exited with statuses {statuses}"))
def stage_statuses(world: World, statuses: str) -> None:
    result = world.outcome()
    assert [stage.exit_code for stage in result.stages] == integers(statuses)


@then("it is rejected as an unknown program")
def rejected_as_unknown(world: World) -> None:
    assert isinstance(world.error, UnknownProgramError)
    assert world.result is None


@then("the error lists the allowed programs")
def error_lists_allowed(world: World) -> None:
    allowed = ", ".join(DEFAULT_CATALOGUE)
    assert f"allowed programs: {allowed}." in str(world.error)


@then("the run times out")
def run_times_out(world: World) -> None:
    assert isinstance(world.error, TimeoutExpired)
    assert world.result is None


@then("no process was started")
@then("no stage is left running")
def no_process_left(world: World) -> None:
    assert child_processes() == world.children_before
