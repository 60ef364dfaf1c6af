"""The kit's configuration: the ``[mutation]`` section of ``setup.cfg``."""

from __future__ import annotations

import configparser
import dataclasses
import os
import pathlib


class ConfigError(ValueError):
    """The kit's configuration or catalogue is invalid (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class KitConfig:
    """Settings and gates read from ``setup.cfg``.

    Parameters
    ----------
    root
        The project root (where ``setup.cfg`` lives).
    targets
        The modules under mutation.
    tests
        The test files run against every mutant.
    catalogue
        The must-kill catalogue (TOML).
    excused
        The list of excused equivalent mutants (TOML).
    results
        Where the result file is written.
    baseline
        The committed per-module score baseline (the ratchet).
    coverage_branch_min
        Minimum branch coverage, in percent, of each target module.
    mutmut_score_min
        Minimum mutmut score (0-1) of each target module.
    max_survivors
        Most mutmut survivors (not excused) allowed over all targets.
    mutant_timeout
        Seconds one catalogue mutant's test run may take.
    jobs
        Parallel workers.
    copy
        What is copied into each isolated workspace.
    timeout_factor, timeout_constant
        A test under a mutant may run ``timeout_factor`` x its baseline
        duration + ``timeout_constant`` seconds before its worker's process
        group is killed and the mutant is a ``timeout``.
    generated_score_min
        Minimum score (0-1) of each target module's generated mutants
        (``mutation/operators.py``).
    scoped_tests, scoped_targets
        Test files (a subset of ``tests``) that run only against the
        mutants of ``scoped_targets`` (a subset of ``targets``); see
        :meth:`runs_against`.
    """

    root: pathlib.Path
    targets: tuple[str, ...]
    tests: tuple[str, ...]
    catalogue: str
    excused: str
    results: str
    baseline: str
    coverage_branch_min: float
    mutmut_score_min: float
    max_survivors: int
    mutant_timeout: float
    jobs: int
    copy: tuple[str, ...]
    timeout_factor: float = 5.0
    timeout_constant: float = 3.0
    generated_score_min: float = 0.95
    scoped_tests: tuple[str, ...] = ()
    scoped_targets: tuple[str, ...] = ()

    def runs_against(self, test: str, target: str) -> bool:
        """Whether ``test`` (a pytest node id) runs against ``target``'s mutants.

        Every test runs against every target, except a scoped test's, which
        runs only against the scoped targets' mutants.
        """
        file = test.split("::", 1)[0]
        return file not in self.scoped_tests or target in self.scoped_targets

    def input_groups(self) -> dict[str, list[str]]:
        """Return the files whose hashes make a result file current."""
        return {
            "source": list(self.targets),
            "tests": [*self.tests, "tests/helpers", "conftest.py", "features"],
            "config": ["setup.cfg", self.catalogue, self.excused],
            # Everything else copied into the workspaces (other modules, helpers).
            "project": list(self.copy),
            # The kit's own modules: a verdict from another version of the
            # engine or the operators is not re-used.
            "kit": self.kit_sources(),
        }

    def kit_sources(self) -> list[str]:
        """Return the kit's modules, relative to the root when inside it."""
        kit = pathlib.Path(__file__).resolve().parent
        files = sorted(kit.glob("*.py"))
        if kit.is_relative_to(self.root.resolve()):
            return [p.relative_to(self.root.resolve()).as_posix() for p in files]
        return [str(p) for p in files]


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def _number(section: configparser.SectionProxy, key: str, low: float, high: float) -> float:
    raw = section.get(key)
    if raw is None:
        msg = f"setup.cfg [mutation] is missing {key!r}"
        raise ConfigError(msg)
    try:
        value = float(raw)
    except ValueError:
        msg = f"setup.cfg [mutation] {key} = {raw!r} is not a number"
        raise ConfigError(msg) from None
    if not low <= value <= high:
        msg = f"setup.cfg [mutation] {key} = {raw} is outside {low:g}..{high:g}"
        raise ConfigError(msg)
    return value


def load_config(root: pathlib.Path) -> KitConfig:
    """Read and validate ``[mutation]`` from ``root/setup.cfg``.

    Raises
    ------
    ConfigError
        If the section or a key is missing or invalid, or a listed file does
        not exist.
    """
    parser = configparser.ConfigParser()
    cfg = root / "setup.cfg"
    if not parser.read(cfg):
        msg = f"no setup.cfg at {root}"
        raise ConfigError(msg)
    if not parser.has_section("mutation"):
        msg = "setup.cfg has no [mutation] section"
        raise ConfigError(msg)
    section = parser["mutation"]
    for key in ("targets", "tests", "catalogue", "excused", "results", "baseline"):
        if not section.get(key, "").strip():
            msg = f"setup.cfg [mutation] is missing {key!r}"
            raise ConfigError(msg)
    jobs_raw = section.get("jobs", "auto").strip()
    if jobs_raw == "auto":
        jobs = max(1, os.cpu_count() or 1)
    elif jobs_raw.isdigit() and int(jobs_raw) > 0:
        jobs = int(jobs_raw)
    else:
        msg = f"setup.cfg [mutation] jobs = {jobs_raw!r}; use 'auto' or a positive integer"
        raise ConfigError(msg)
    config = KitConfig(
        root=root,
        targets=_lines(section["targets"]),
        tests=_lines(section["tests"]),
        catalogue=section["catalogue"].strip(),
        excused=section["excused"].strip(),
        results=section["results"].strip(),
        baseline=section["baseline"].strip(),
        coverage_branch_min=_number(section, "coverage_branch_min", 0, 100),
        mutmut_score_min=_number(section, "mutmut_score_min", 0, 1),
        max_survivors=int(_number(section, "max_survivors", 0, 10_000)),
        mutant_timeout=_number(section, "mutant_timeout", 1, 3600),
        timeout_factor=_number(section, "timeout_factor", 1, 1000),
        timeout_constant=_number(section, "timeout_constant", 0.1, 3600),
        jobs=jobs,
        copy=_lines(
            section.get(
                "copy",
                "cuprum\ntests\nfeatures\nconftest.py\nsetup.cfg\npyproject.toml",
            )
        ),
        generated_score_min=(
            _number(section, "generated_score_min", 0, 1)
            if "generated_score_min" in section
            else KitConfig.generated_score_min
        ),
        scoped_tests=_lines(section.get("scoped_tests", "")),
        scoped_targets=_lines(section.get("scoped_targets", "")),
    )
    _check_scope(config)
    for name in (*config.targets, *config.tests, config.catalogue, config.excused):
        if not (root / name).exists():
            msg = f"setup.cfg [mutation] names {name!r}, which does not exist"
            raise ConfigError(msg)
    _check_mutmut_mutates_the_targets(parser, config.targets)
    return config


def _check_mutmut_mutates_the_targets(
    parser: configparser.ConfigParser, targets: tuple[str, ...]
) -> None:
    """Refuse a ``[mutmut] only_mutate`` that differs from the kit's targets.

    mutmut reads its own section, so a target missing there gets no mutmut
    mutant at all, and its score gate would have nothing to count.
    """
    only = set(_lines(parser.get("mutmut", "only_mutate", fallback="")))
    if only == set(targets):
        return
    missing = sorted(set(targets) - only)
    extra = sorted(only - set(targets))
    parts = [f"not in [mutmut] only_mutate: {', '.join(missing)}"] if missing else []
    parts += [f"not in [mutation] targets: {', '.join(extra)}"] if extra else []
    msg = (
        "setup.cfg [mutmut] only_mutate must list exactly the [mutation] targets ("
        + "; ".join(parts)
        + "); make the two lists the same"
    )
    raise ConfigError(msg)


def _check_scope(config: KitConfig) -> None:
    """Refuse scoped tests or targets that are not among the tests and targets."""
    if bool(config.scoped_tests) != bool(config.scoped_targets):
        msg = (
            "setup.cfg [mutation] scoped_tests and scoped_targets go together: "
            "list both (tests that run only against those targets) or neither"
        )
        raise ConfigError(msg)
    for key, names, pool in (
        ("scoped_tests", config.scoped_tests, config.tests),
        ("scoped_targets", config.scoped_targets, config.targets),
    ):
        stray = sorted(set(names) - set(pool))
        if stray:
            where = "tests" if key == "scoped_tests" else "targets"
            msg = (
                f"setup.cfg [mutation] {key} names {', '.join(stray)}, which is not "
                f"in [mutation] {where}; add it there or remove it from {key}"
            )
            raise ConfigError(msg)
