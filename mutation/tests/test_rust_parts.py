"""The Rust phase's parts on their own: source spans, cargo test output,
catalogue application, mutant spans, shards, keys and gates.

These need no cargo; ``test_rust_honesty.py`` runs the real tools.
"""

from __future__ import annotations

import pathlib

import pytest

from mutation.cargo_mutants import apply_to_source, original_text
from mutation.cargo_test_log import failed_tests
from mutation.catalogue import CatalogueMutant, MutantDoesNotApplyError
from mutation.config import ConfigError
from mutation.results import Killer, MutantResult
from mutation.rust_cache import outside_digest, shard_of
from mutation.rust_catalogue import apply_rust_mutant
from mutation.rust_cli import parse_shard
from mutation.rust_config import RustConfig
from mutation.rust_gates import apply_excuses, position_free, rust_gates, rust_scores
from mutation.rust_source import find_function, function_at, functions

SOURCE = """//! A doc comment with a { brace.
use std::io;

const OPEN: &str = "{ not a block";
const CLOSE: char = '}';

pub fn top(x: u8) -> u8 {
    let raw = r#"}}"#;
    let _ = (raw, '{', b'}');
    /* { nested /* } */ } */
    x + 1
}

impl<'a> Io<'a> {
    fn new(level: &'a str) -> Self {
        Self { level }
    }
}

#[cfg(target_os = "linux")]
mod splice {
    pub(super) fn direct() -> io::Result<()> {
        Ok(())
    }

    fn new() {}
}

trait Probe {
    fn probe(&self) -> bool;
}
"""


def test_functions_are_qualified_and_spanned_past_literals_and_comments() -> None:
    spans = {fn.name: (fn.line_start, fn.line_end) for fn in functions(SOURCE)}
    assert spans == {
        "top": (7, 12),
        "Io::new": (15, 17),
        "splice::direct": (22, 24),
        "splice::new": (26, 26),
    }


def test_find_function_needs_a_qualifier_only_when_the_name_repeats() -> None:
    found = find_function(SOURCE, "direct")
    assert found is not None
    assert found.name == "splice::direct"
    assert find_function(SOURCE, "new") is None
    qualified = find_function(SOURCE, "splice::new")
    assert qualified is not None
    assert qualified.line_start == 26
    at = function_at(SOURCE, 16)
    assert at is not None
    assert at.name == "Io::new"
    assert function_at(SOURCE, 4) is None


def test_text_outside_functions_is_fingerprinted_apart() -> None:
    inside = SOURCE.replace("x + 1", "x + 2")
    outside = SOURCE.replace('"{ not a block"', '"{ changed"')
    assert outside_digest(inside) == outside_digest(SOURCE)
    assert outside_digest(outside) != outside_digest(SOURCE)


CARGO_OUTPUT = """
     Running `/tmp/x/target/debug/deps/_rust_backend_native-3ab0bed3ee1946f7`
running 1 test
test tests::is_available_says_yes ... FAILED

failures:

---- tests::is_available_says_yes stdout ----

thread 'tests::is_available_says_yes' (497) panicked at src/lib.rs:205:9:
assertion failed: is_available()
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
     Running tests/pump/main.rs (target/debug/deps/pump-f9b68287878bf5df)
test syscalls::eintr_is_retried_with_blocking_pipes ... FAILED
test delivery::empty_input_returns_zero ... ok
---- syscalls::eintr_is_retried_with_blocking_pipes stdout ----
thread 'syscalls::eintr_is_retried_with_blocking_pipes' panicked at tests/pump/syscalls.rs:9:9:
pump failed: Interrupted system call (os error 4)
"""


def test_failed_tests_are_named_by_binary_with_their_panic_message() -> None:
    killers = failed_tests(CARGO_OUTPUT)
    assert killers == [
        Killer("lib::tests::is_available_says_yes", "assertion failed: is_available()", "rust"),
        Killer(
            "pump::syscalls::eintr_is_retried_with_blocking_pipes",
            "pump failed: Interrupted system call (os error 4)",
            "rust",
        ),
    ]
    assert failed_tests("test result: ok. 3 passed; 0 failed") == []


def test_a_crashed_test_binary_is_named_as_the_killer() -> None:
    output = (
        "     Running tests/pump/main.rs (target/debug/deps/pump-f9b68287878bf5df)\n"
        "running 45 tests\n"
        "error: test failed, to rerun pass `--test pump`\n"
        "Caused by:\n"
        "  process didn't exit successfully: `/t/target/debug/deps/pump-f9b68287878bf5df`"
        " (signal: 6, SIGABRT: process abort signal)\n"
    )
    assert failed_tests(output) == [
        Killer(
            "pump (test binary)",
            "the test binary did not exit successfully (signal: 6, SIGABRT: process abort signal)",
            "rust",
        )
    ]


def _entry(find: str, function: str) -> CatalogueMutant:
    return CatalogueMutant(
        id="plus-two",
        claim="top adds one",
        file="src/lib.rs",
        function=function,
        find=find,
        replace="x + 2",
    )


def test_catalogue_mutant_applies_inside_its_function() -> None:
    applied = apply_rust_mutant(_entry("x + 1", "top"), SOURCE)
    assert "x + 2" in applied.mutated
    assert "x + 1" not in applied.mutated
    assert (applied.line_start, applied.line_end) == (11, 11)
    assert "-    x + 1" in applied.diff
    assert "+    x + 2" in applied.diff


@pytest.mark.parametrize(
    ("find", "function", "message"),
    [
        ("x + 9", "top", "no longer occurs"),
        ("Ok(())", "Io::new", "not inside function 'Io::new'"),
        ("x + 1", "new", "not inside function 'new'"),
    ],
)
def test_catalogue_mutant_that_does_not_apply_names_itself(
    find: str, function: str, message: str
) -> None:
    with pytest.raises(MutantDoesNotApplyError, match="'plus-two'") as caught:
        apply_rust_mutant(_entry(find, function), SOURCE)
    assert message in str(caught.value)


def test_cargo_mutants_span_is_replaced_and_read_back() -> None:
    span = {"start": {"line": 11, "column": 5}, "end": {"line": 11, "column": 10}}
    assert original_text(SOURCE, span) == "x + 1"
    mutated = apply_to_source(SOURCE, {"span": span, "replacement": "0"})
    assert "\n    0\n}" in mutated
    assert mutated.replace("\n    0\n", "\n    x + 1\n") == SOURCE


def test_shards_partition_the_sorted_names_deterministically() -> None:
    names = [f"m{i:02d}" for i in range(11)]
    shards = [shard_of(list(reversed(names)), (k, 3)) for k in range(3)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names)
    assert shards[0] == {"m00", "m03", "m06", "m09"}
    assert shard_of(names, None) == set(names)


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "1-3"])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(ConfigError, match="use K/N"):
        parse_shard(text)
    assert parse_shard("3/3") == (2, 3)


def _mutant(ident: str, status: str, *, diff: str = "") -> MutantResult:
    return MutantResult(
        id=ident,
        origin="cargo-mutants",
        file="ring/src/lib.rs",
        function="f",
        line_start=1,
        line_end=1,
        original="",
        replacement="",
        diff=diff,
        status=status,  # type: ignore[arg-type]
        language="rust",
    )


def _config() -> RustConfig:
    return RustConfig(
        root=pathlib.Path("."),
        crate="ring",
        sources=("ring/src/lib.rs",),
        catalogue="c.toml",
        excused="e.toml",
        python_tests=(),
        results="r.json",
        rust_score_min=1.0,
        max_survivors=0,
        timeout_multiplier=3,
        minimum_timeout=20,
        jobs=1,
        cross_language=False,
    )


def test_unviable_mutants_are_listed_but_not_scored_and_survivors_are_named() -> None:
    mutants = [
        _mutant("ring/src/lib.rs:1:1: a", "killed"),
        _mutant("ring/src/lib.rs:2:1: b", "unviable"),
        _mutant("ring/src/lib.rs:3:1: c", "survived"),
    ]
    config = _config()
    scores = rust_scores(mutants, config)
    assert (scores[0].total, scores[0].killed, scores[0].score) == (2, 1, 0.5)
    gates = {gate.name: gate for gate in rust_gates(mutants, scores, config)}
    assert not gates["rust score ring/src/lib.rs"].passed
    assert "1 unviable not scored" in gates["rust score ring/src/lib.rs"].detail
    assert not gates["rust survivors"].passed
    assert "ring/src/lib.rs:3:1: c (survived)" in gates["rust survivors"].detail
    assert gates["rust must-kill catalogue"].passed


def test_excuses_match_without_position_and_a_stale_one_is_an_error() -> None:
    mutants = [_mutant("src/pump.rs:208:34: delete - in wait_for", "survived", diff="+ (1)")]
    assert position_free(mutants[0].id) == "src/pump.rs: delete - in wait_for"
    apply_excuses(mutants, [("src/pump.rs: delete - in wait_for", "why", "(1)")], "x.toml")
    assert mutants[0].status == "excused"
    assert mutants[0].excuse == "why"
    with pytest.raises(ConfigError, match="no longer exists"):
        apply_excuses(mutants, [("src/pump.rs: delete - in other", "why", "(1)")], "x.toml")
