"""The allowlist: what may run, and the errors for what may not."""

from __future__ import annotations

import pathlib
import time

import pytest

from cuprum import (
    CAT,
    DEFAULT_CATALOGUE,
    ECHO,
    FALSE,
    GREP,
    HEAD,
    PRINTF,
    SLEEP,
    SORT,
    TAIL,
    TR,
    TRUE,
    WC,
    YES,
    Program,
    ProgramCatalogue,
    ProgramEntry,
    ProgramNotFoundError,
    SafeCmd,
    TimeoutExpired,
    UnknownProgramError,
    sh,
)
from cuprum._pipeline import TERMINATE_GRACE_SECONDS
from tests.helpers.processes import child_processes, children_deaf_to_sigterm

DEFAULT_PROGRAMS = [
    "cat",
    "echo",
    "false",
    "grep",
    "head",
    "printf",
    "sleep",
    "sort",
    "tail",
    "tr",
    "true",
    "wc",
    "yes",
]
MISSING_PROGRAM = "cuprum-test-no-such-program"


def test_default_catalogue_lists_the_text_tools_sorted() -> None:
    assert list(DEFAULT_CATALOGUE) == DEFAULT_PROGRAMS
    assert len(DEFAULT_CATALOGUE) == 13
    assert (
        sorted([CAT, ECHO, FALSE, GREP, HEAD, PRINTF, SLEEP, SORT, TAIL, TR, TRUE, WC, YES])
        == DEFAULT_PROGRAMS
    )


def test_default_catalogue_entries_carry_project_metadata() -> None:
    entry = DEFAULT_CATALOGUE.lookup("grep")

    assert entry == ProgramEntry(Program("grep"), project="coreutils", notes="common text plumbing")


@pytest.mark.parametrize("program", DEFAULT_PROGRAMS)
def test_every_default_program_is_allowed(program: str) -> None:
    assert program in DEFAULT_CATALOGUE
    cmd = sh.make(program)()
    assert cmd == SafeCmd(program=Program(program), argv=(program,))


@pytest.mark.parametrize(
    "program",
    ["rm", "sh", "bash", "CAT", "cat ", " cat", "/bin/cat", "./cat", "cat;rm", ""],
)
def test_unknown_program_is_rejected_with_the_allowed_list(program: str) -> None:
    before = child_processes()

    with pytest.raises(UnknownProgramError) as excinfo:
        sh.make(program)

    assert str(excinfo.value) == (
        f"program {program!r} is not in the catalogue; allowed programs: "
        f"{', '.join(DEFAULT_PROGRAMS)}. Add a ProgramEntry to a ProgramCatalogue "
        "and pass it as catalogue= to sh.make() to allow it."
    )
    assert isinstance(excinfo.value, LookupError)
    assert child_processes() == before


def test_unknown_program_error_names_the_custom_catalogue_programs() -> None:
    catalogue = ProgramCatalogue(
        [ProgramEntry(Program("wc"), "p"), ProgramEntry(Program("cat"), "p")]
    )

    with pytest.raises(UnknownProgramError) as excinfo:
        sh.make("rm", catalogue=catalogue)

    message = str(excinfo.value)
    assert message.startswith("program 'rm' is not in the catalogue; ")
    assert "allowed programs: cat, wc. " in message


def test_rejection_happens_when_building_so_nothing_can_run(
    tmp_path: pathlib.Path,
) -> None:
    # "touch" is a real program; were it run, the file would appear.
    target = tmp_path / "touched"

    with pytest.raises(UnknownProgramError):
        sh.make("touch")(str(target)).run_sync()

    time.sleep(0.05)
    assert not target.exists()


def test_custom_catalogue_allows_its_programs_only() -> None:
    catalogue = ProgramCatalogue([ProgramEntry(Program("printenv"), "tests")])
    printenv = sh.make("printenv", catalogue=catalogue)

    result = printenv("CUPRUM_TEST_UNSET_VARIABLE").run_sync()

    assert result.argv == ("printenv", "CUPRUM_TEST_UNSET_VARIABLE")
    assert result.exit_code == 1  # printenv: variable not set
    with pytest.raises(UnknownProgramError):
        sh.make(ECHO, catalogue=catalogue)
    assert "printenv" not in DEFAULT_CATALOGUE


def test_catalogue_membership_iteration_and_length() -> None:
    catalogue = ProgramCatalogue(
        ProgramEntry(Program(name), "p") for name in ("zeta", "alpha", "mid")
    )

    assert list(catalogue) == ["alpha", "mid", "zeta"]
    assert len(catalogue) == 3
    assert "mid" in catalogue
    assert "beta" not in catalogue
    assert 42 not in catalogue
    assert catalogue.lookup("zeta") == ProgramEntry(Program("zeta"), "p")


def test_empty_catalogue_allows_nothing() -> None:
    catalogue = ProgramCatalogue([])

    assert len(catalogue) == 0
    with pytest.raises(UnknownProgramError, match="allowed programs: \\. "):
        sh.make(ECHO, catalogue=catalogue)


def test_duplicate_entries_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"listed twice") as excinfo:
        ProgramCatalogue(
            [
                ProgramEntry(CAT, "one"),
                ProgramEntry(ECHO, "x"),
                ProgramEntry(CAT, "two"),
            ]
        )

    assert str(excinfo.value) == "program 'cat' is listed twice in the catalogue"


@pytest.mark.parametrize("name", ["", " cat", "cat ", "cat\n", "\tcat", " "])
def test_invalid_program_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid program name") as excinfo:
        ProgramCatalogue([ProgramEntry(Program(name), "p")])

    assert str(excinfo.value) == f"invalid program name {name!r} in catalogue"


def test_program_entry_is_immutable() -> None:
    entry = ProgramEntry(CAT, "coreutils")

    with pytest.raises(AttributeError):
        entry.program = ECHO  # type: ignore[misc]
    assert entry.notes == ""


# --- allowlisted but missing from PATH --------------------------------------


def missing_catalogue() -> ProgramCatalogue:
    return ProgramCatalogue(
        [
            ProgramEntry(Program(MISSING_PROGRAM), "tests", "not installed"),
            ProgramEntry(SLEEP, "coreutils"),
        ]
    )


def test_allowlisted_program_missing_from_path_is_reported() -> None:
    cmd = sh.make(MISSING_PROGRAM, catalogue=missing_catalogue())("--flag")

    with pytest.raises(ProgramNotFoundError) as excinfo:
        cmd.run_sync()

    message = str(excinfo.value)
    assert message.startswith(
        f"program {MISSING_PROGRAM!r} is allowlisted but no executable of that name is on PATH ("
    )
    assert message.endswith("); install it or fix PATH")
    assert isinstance(excinfo.value, FileNotFoundError)


def test_missing_program_later_in_a_pipeline_is_reported_before_spawning() -> None:
    catalogue = missing_catalogue()
    pipeline = (
        sh.make(SLEEP, catalogue=catalogue)("30") | sh.make(MISSING_PROGRAM, catalogue=catalogue)()
    )
    before = child_processes()

    with children_deaf_to_sigterm():
        started = time.monotonic()
        with pytest.raises(ProgramNotFoundError, match=MISSING_PROGRAM):
            pipeline.run_sync()
        elapsed = time.monotonic() - started

    # A spawned sleep would have needed SIGKILL after the grace period.
    assert elapsed < TERMINATE_GRACE_SECONDS
    assert child_processes() == before


def test_deaf_children_do_reveal_a_spawned_stage() -> None:
    # The control for the test above: a stage that was spawned and then
    # terminated costs at least the grace period under the same conditions.
    with children_deaf_to_sigterm():
        started = time.monotonic()
        with pytest.raises(TimeoutExpired):
            sh.make(SLEEP)("30").run_sync(timeout=0.01)
        elapsed = time.monotonic() - started

    assert elapsed >= TERMINATE_GRACE_SECONDS


def test_program_lookup_uses_the_path_from_env(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ProgramNotFoundError) as excinfo:
        sh.make(ECHO)("hi").run_sync(env={"PATH": str(tmp_path)})

    assert str(excinfo.value) == (
        f"program 'echo' is allowlisted but no executable of that name is on PATH "
        f"({tmp_path}); install it or fix PATH"
    )


def test_program_found_through_the_path_from_env(tmp_path: pathlib.Path) -> None:
    tool = tmp_path / MISSING_PROGRAM
    tool.write_text("#!/bin/cat\nthe tool ran\n", encoding="utf-8")
    tool.chmod(0o755)
    cmd = sh.make(MISSING_PROGRAM, catalogue=missing_catalogue())()

    result = cmd.run_sync(env={"PATH": f"{tmp_path}:/usr/bin:/bin"})

    assert result.exit_code == 0
    assert result.stdout == "#!/bin/cat\nthe tool ran\n"
