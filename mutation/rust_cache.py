"""Re-use of earlier Rust outcomes: position-free keys and input digests.

The keys and the digests cover everything a verdict depends on.

A mutant's verdict is re-used when the text of the function it lies in is
unchanged and so are the tests (the crate's tests, the Python tests that
drive the pump and their helpers, the catalogue, the phase's settings and
the pinned cargo-mutants). Keys never contain line numbers, so editing one
function does not invalidate the mutants below it.
"""

from __future__ import annotations

import configparser
import hashlib
import pathlib
import typing as typ

from mutation.cargo_mutants import PINNED_VERSION
from mutation.catalogue import CatalogueMutant
from mutation.rust_config import SECTION, RustConfig
from mutation.rust_source import find_function, function_at, function_digest, functions

_PY_HELPERS = ("tests/helpers", "conftest.py")
VERDICT_SETTINGS = (
    "crate",
    "sources",
    "python_tests",
    "timeout_multiplier",
    "minimum_timeout",
    "cross_language",
)


def _files(root: pathlib.Path, entry: str) -> list[pathlib.Path]:
    path = root / entry
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix in {".rs", ".py", ".toml", ".feature"}
            and "__pycache__" not in p.parts
            and "target" not in p.relative_to(root).parts
        )
    return [path] if path.exists() else []


def source_functions(config: RustConfig) -> dict[str, dict[str, str]]:
    """``{source file: {function: digest}}`` for every mutated source."""
    digests: dict[str, dict[str, str]] = {}
    for source in config.sources:
        text = (config.root / source).read_text(encoding="utf-8")
        digests[source] = {fn.name: function_digest(text, fn) for fn in functions(text)}
        digests[source][OUTSIDE] = outside_digest(text)
    return digests


OUTSIDE = "<outside functions>"
"""The key under which the text outside every function (constants, types,
imports) is fingerprinted; mutants there depend on it."""


def outside_digest(text: str) -> str:
    """Return a hash of ``text`` with every function's text cut out."""
    kept, position = [], 0
    for fn in sorted(functions(text), key=lambda f: f.start):
        if fn.start >= position:
            kept.append(text[position : fn.start])
            position = fn.end
    kept.append(text[position:])
    return hashlib.sha256("".join(kept).encode()).hexdigest()


def tests_digest(config: RustConfig) -> str:
    """One hash over everything but the mutated functions that decides verdicts."""
    digest = hashlib.sha256()
    digest.update(f"cargo-mutants {PINNED_VERSION}\n".encode())
    parser = configparser.ConfigParser()
    parser.read(config.root / "setup.cfg")
    section = dict(parser[SECTION]) if parser.has_section(SECTION) else {}
    # Only the settings that can change a verdict; gates, paths of outputs
    # and parallelism do not.
    judged = {key: section.get(key, "") for key in VERDICT_SETTINGS}
    digest.update(repr(sorted(judged.items())).encode())
    crate = config.crate
    entries = [
        f"{crate}/tests",
        f"{crate}/Cargo.toml",
        f"{crate}/Cargo.lock",
        config.catalogue,
        *config.python_tests,
        *_PY_HELPERS,
    ]
    for entry in entries:
        for path in _files(config.root, entry):
            digest.update(path.relative_to(config.root).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    # Unit tests live beside the code; a change to one changes every verdict.
    for source, fns in sorted(source_functions(config).items()):
        for name, fn_digest in sorted(fns.items()):
            if name.startswith("tests::") or "::tests::" in name:
                digest.update(f"{source}:{name}:{fn_digest}\n".encode())
    return digest.hexdigest()


def listed_key(mutant: dict[str, typ.Any], crate: str, texts: dict[str, str]) -> str:
    """Return a position-free key for a cargo-mutants mutant.

    It names the file, the enclosing function and its text's digest, the
    line *within* the function, the column, the genre and the replacement.
    """
    file = f"{crate}/{mutant['file']}"
    text = texts.get(file, "")
    line = mutant["span"]["start"]["line"]
    fn = function_at(text, line)
    if fn is not None:
        fn_part = f"{fn.name}:{function_digest(text, fn)}:{line - fn.line_start}"
    else:
        # Outside any function the line is not stable; the source line is.
        source_line = text.splitlines()[line - 1] if 0 < line <= text.count("\n") + 1 else ""
        fn_part = f"{OUTSIDE}:{outside_digest(text)}:{source_line}"
    parts = (
        file,
        fn_part,
        str(mutant["span"]["start"]["column"]),
        str(mutant["span"]["end"]["line"] - line),
        str(mutant["span"]["end"]["column"]),
        str(mutant.get("genre", "")),
        str(mutant.get("replacement", "")),
        mutant["name"].split(": ", 1)[-1],
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def catalogue_key(mutant: CatalogueMutant, texts: dict[str, str]) -> str:
    """Return a key for a catalogue entry: the entry and its function's text."""
    text = texts.get(mutant.file, "")
    fn = find_function(text, mutant.function)
    fn_digest = function_digest(text, fn) if fn else "?"
    parts = (mutant.id, mutant.file, mutant.function, mutant.find, mutant.replace, fn_digest)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def shard_of(names: list[str], shard: tuple[int, int] | None) -> set[str]:
    """Return the names in shard ``k`` of ``n`` (0-based): every n-th sorted name."""
    ordered = sorted(names)
    if shard is None:
        return set(ordered)
    k, n = shard
    return {name for index, name in enumerate(ordered) if index % n == k}
