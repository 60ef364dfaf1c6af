"""The score ratchet: a module's mutation score may not fall below its baseline.

``mutation/baseline.json`` maps each target module to the score of the run
a maintainer last accepted (``{"cuprum/_backend.py": 0.97}``).  A module
passes the ratchet when its score is at least its baseline minus the
tolerance, even if that is above its threshold; a module not yet in the
baseline passes with a note.  :func:`update_baseline` records the current
scores: an explicit maintainer action, so it lowers as well as raises.

The generated operators' score of a module is ratcheted beside mutmut's,
under the key ``generated:<module path>``.
"""

from __future__ import annotations

import json
import pathlib

from mutation.results import GateVerdict, ModuleScore, Results

DIGITS = 4
"""Scores are compared and stored rounded to this many decimals."""

GENERATED_PREFIX = "generated:"
"""Baseline keys of the generated operators' per-module scores."""


def scored_modules(results: Results) -> list[tuple[str, ModuleScore]]:
    """Return ``(baseline key, score)`` of every ratcheted module score.

    mutmut's scores under the module path, then the generated operators'
    (of the modules that have generated mutants) under
    :data:`GENERATED_PREFIX` + the module path.
    """
    from mutation.gates import generated_scores

    files = sorted({m.file for m in results.mutants if m.origin == "generated"})
    generated = generated_scores(results.mutants, files, 0.0)
    return [(m.file, m) for m in results.modules] + [
        (GENERATED_PREFIX + m.file, m) for m in generated
    ]


def load_baseline(path: pathlib.Path) -> dict[str, float]:
    """Read a baseline file.

    Parameters
    ----------
    path
        The JSON file, ``{"module path": score}`` with scores in 0-1.

    Returns
    -------
    dict[str, float]
        The recorded scores.

    Raises
    ------
    ValueError
        When the file is missing, not JSON, not an object, or holds a score
        that is not a number between 0 and 1.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"cannot read the score baseline {path}: {exc}"
        raise ValueError(msg) from exc
    if not isinstance(raw, dict):
        msg = f"{path}: the score baseline must be a JSON object"
        raise ValueError(msg)
    baseline: dict[str, float] = {}
    for module, score in raw.items():
        valid = isinstance(score, int | float) and not isinstance(score, bool)
        if not valid or not 0.0 <= float(score) <= 1.0:
            msg = f"{path}: score of {module!r} must be a number in 0-1, not {score!r}"
            raise ValueError(msg)
        baseline[str(module)] = float(score)
    return baseline


def ratchet_verdicts(
    results: Results, baseline: dict[str, float], tolerance: float = 0.0
) -> list[GateVerdict]:
    """Return one ratchet verdict per scored module.

    Parameters
    ----------
    results
        A loaded result file.
    baseline
        Accepted scores per module (see :func:`load_baseline`).
    tolerance
        How far (0-1) a score may fall below its baseline and still pass.

    Returns
    -------
    list[GateVerdict]
        ``ratchet:<module>`` verdicts in module order; modules absent from
        the baseline pass with a note.

    Raises
    ------
    ValueError
        For a negative tolerance.
    """
    if tolerance < 0:
        msg = f"tolerance must be >= 0, not {tolerance}"
        raise ValueError(msg)
    verdicts: list[GateVerdict] = []
    for key, module in scored_modules(results):
        name = f"ratchet:{key}"
        if key not in baseline:
            verdicts.append(
                GateVerdict(
                    name,
                    passed=True,
                    detail=(
                        f"score {module.score:.2%}; not in the baseline yet "
                        "(record it with update_baseline)"
                    ),
                )
            )
            continue
        floor = baseline[key] - tolerance
        passed = round(module.score, DIGITS) >= round(floor, DIGITS)
        relation = "at or above" if passed else "below"
        allowance = f" - tolerance {tolerance:.2%}" if tolerance else ""
        verdicts.append(
            GateVerdict(
                name,
                passed=passed,
                detail=(
                    f"score {module.score:.2%} {relation} baseline {baseline[key]:.2%}{allowance}"
                ),
            )
        )
    return verdicts


def update_baseline(results: Results, path: pathlib.Path) -> dict[str, float]:
    """Write the current module scores as the new baseline.

    Parameters
    ----------
    results
        The results of a full run (not a ``--since`` review run).
    path
        The baseline file to (over)write.

    Returns
    -------
    dict[str, float]
        The scores written, rounded to :data:`DIGITS` decimals.

    Raises
    ------
    ValueError
        When ``results`` come from a review run limited to a selection, whose
        scores cover only part of each module.
    """
    if results.selection:
        msg = "a --since review run scores only part of each module; run `make mutate`"
        raise ValueError(msg)
    scores = {
        key: round(m.score, DIGITS)
        for key, m in sorted(scored_modules(results), key=lambda pair: pair[0])
    }
    path.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    return scores
