"""The Rust phase's settings: the ``[mutation.rust]`` section of ``setup.cfg``."""

from __future__ import annotations

import configparser
import dataclasses
import os
import pathlib

from mutation.config import ConfigError

SECTION = "mutation.rust"


@dataclasses.dataclass(frozen=True)
class RustConfig:
    """Settings and the gate of the Rust phase.

    Parameters
    ----------
    root
        The project root.
    crate
        The crate under mutation (``rust_extension``).
    sources
        Its mutated source files, relative to the project root.
    catalogue
        The Rust must-kill catalogue (TOML).
    excused
        The Rust equivalent mutants excused with a reason (TOML; optional).
    python_tests
        The Python tests that drive the pump, run against every Rust mutant
        the crate's own tests miss (cross-language kills).
    results
        Where the phase writes its result file.
    rust_score_min
        Minimum score (0-1): killed / (all - unviable - excused).
    max_survivors
        Most Rust mutants neither killed nor excused.
    timeout_multiplier
        A mutant's test time limit as a multiple of the baseline test time.
    minimum_timeout
        The lower bound of that limit, in seconds.
    jobs
        Parallel cargo-mutants jobs.
    cross_language
        Whether survivors of ``cargo test`` are run against ``python_tests``.
    """

    root: pathlib.Path
    crate: str
    sources: tuple[str, ...]
    catalogue: str
    excused: str
    python_tests: tuple[str, ...]
    results: str
    rust_score_min: float
    max_survivors: int
    timeout_multiplier: float
    minimum_timeout: float
    jobs: int
    cross_language: bool

    def crate_relative(self, path: str) -> str:
        """``rust_extension/src/pump.rs`` -> ``src/pump.rs``."""
        return pathlib.PurePosixPath(path).relative_to(self.crate).as_posix()


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def _number(
    section: configparser.SectionProxy, key: str, default: str, low: float, high: float
) -> float:
    raw = section.get(key, default).strip()
    try:
        value = float(raw)
    except ValueError:
        msg = f"setup.cfg [{SECTION}] {key} = {raw!r} is not a number"
        raise ConfigError(msg) from None
    if not low <= value <= high:
        msg = f"setup.cfg [{SECTION}] {key} = {raw} is outside {low:g}..{high:g}"
        raise ConfigError(msg)
    return value


def load_rust_config(root: pathlib.Path) -> RustConfig:
    """Read and validate ``[mutation.rust]`` from ``root/setup.cfg``.

    Raises
    ------
    ConfigError
        If the section, a key or a named file is missing or invalid.
    """
    parser = configparser.ConfigParser()
    if not parser.read(root / "setup.cfg"):
        msg = f"no setup.cfg at {root}"
        raise ConfigError(msg)
    if not parser.has_section(SECTION):
        msg = f"setup.cfg has no [{SECTION}] section; the Rust phase needs one"
        raise ConfigError(msg)
    section = parser[SECTION]
    for key in ("crate", "sources", "catalogue", "python_tests", "results", "rust_score_min"):
        if not section.get(key, "").strip():
            msg = f"setup.cfg [{SECTION}] is missing {key!r}"
            raise ConfigError(msg)
    jobs_raw = section.get("jobs", "auto").strip()
    if jobs_raw == "auto":
        jobs = max(1, min(4, os.cpu_count() or 1))
    elif jobs_raw.isdigit() and int(jobs_raw) > 0:
        jobs = int(jobs_raw)
    else:
        msg = f"setup.cfg [{SECTION}] jobs = {jobs_raw!r}; use 'auto' or a positive integer"
        raise ConfigError(msg)
    cross = section.get("cross_language", "yes").strip().lower()
    if cross not in {"yes", "no"}:
        msg = f"setup.cfg [{SECTION}] cross_language = {cross!r}; use 'yes' or 'no'"
        raise ConfigError(msg)
    config = RustConfig(
        root=root,
        crate=section["crate"].strip(),
        sources=_lines(section["sources"]),
        catalogue=section["catalogue"].strip(),
        excused=section.get("excused", "mutation/excused_rust.toml").strip(),
        python_tests=_lines(section["python_tests"]),
        results=section["results"].strip(),
        rust_score_min=_number(section, "rust_score_min", "1", 0, 1),
        max_survivors=int(_number(section, "max_survivors", "0", 0, 10_000)),
        timeout_multiplier=_number(section, "timeout_multiplier", "3", 1, 100),
        minimum_timeout=_number(section, "minimum_timeout", "20", 1, 3600),
        jobs=jobs,
        cross_language=cross == "yes",
    )
    named = (config.crate, *config.sources, config.catalogue, *config.python_tests)
    for name in named:
        if not (root / name.split("::", 1)[0]).exists():
            msg = f"setup.cfg [{SECTION}] names {name!r}, which does not exist"
            raise ConfigError(msg)
    for source in config.sources:
        if not source.startswith(f"{config.crate}/"):
            msg = f"setup.cfg [{SECTION}] source {source!r} is not inside crate {config.crate!r}"
            raise ConfigError(msg)
    return config
