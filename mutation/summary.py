"""The terminal summary printed at the end of a kit run."""

from __future__ import annotations

from mutation.results import Results

NOT_KILLED = ("survived", "timeout", "no_tests", "error")


def render_summary(results: Results, *, max_diffs: int = 20) -> str:
    """Return the human summary: phases, scores, must-kill table, survivors."""
    lines: list[str] = []
    lines.append("== cuprum mutation kit")
    phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in results.phases.items())
    lines.append(f"phases: {phases}")
    ran = [m for m in results.mutants if m.status != "not_run"]
    total_time = sum(results.phases.values())
    if ran and results.phases.get("execute"):
        lines.append(
            f"executed: {len(ran)} mutants ({sum(m.origin == 'mutmut' for m in ran)} mutmut, "
            f"{sum(m.origin == 'catalogue' for m in ran)} catalogue, "
            f"{sum(m.origin == 'generated' for m in ran)} generated) in "
            f"{results.phases['execute']:.1f}s; whole run {total_time:.1f}s"
        )
    lines.append("")
    lines.append(
        "module                          score    killed  survived  excused  timeout  no-tests"
    )
    for s in results.modules:
        lines.append(
            f"{s.file:<31} {s.score:>6.1%}  {s.killed:>7}  {s.survived:>8}  {s.excused:>7}  "
            f"{s.timeout:>7}  {s.no_tests:>8}   (gate {s.threshold:.0%})"
        )
    for target, percent in sorted(results.coverage.items()):
        lines.append(f"coverage {target}: {percent:.2f}%")
    lines.append("")
    lines.append("must-kill mutant               status    killed by")
    for m in (m for m in results.mutants if m.must_kill):
        killers = ", ".join(k.test.split("::")[-1] for k in m.killers[:3])
        more = f" (+{len(m.killers) - 3})" if len(m.killers) > 3 else ""
        lines.append(f"{m.id:<30} {m.status:<9} {killers}{more}")
        if m.status != "killed":
            lines.append(f"    claim: {m.claim}")
            if m.detail:
                lines.append(f"    {m.detail}")
    survivors = [m for m in results.mutants if m.status in NOT_KILLED]
    if survivors:
        lines.append("")
        lines.append(f"survivors ({len(survivors)}):")
        for m in survivors[:max_diffs]:
            lines.append(f"-- {m.id} [{m.status}] {m.file}:{m.line_start} in {m.function}")
            lines.extend(
                "   " + d
                for d in m.diff.splitlines()
                if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))
            )
        if len(survivors) > max_diffs:
            lines.append(f"... and {len(survivors) - max_diffs} more (see the report)")
    lines.append("")
    for gate in results.gates:
        lines.append(f"[{'PASS' if gate.passed else 'FAIL'}] {gate.name}: {gate.detail}")
    lines.append(f"verdict: {'PASS' if results.passed else 'FAIL'}")
    return "\n".join(lines)
