"""Sev1..Sev4 from financial exposure, strategic tier and reputational risk (pure).

Each factor scores points from the configured table; the total picks the severity:

    factor                      value                points (default table)
    ARR at stake                max(ARR, renewal)    >=500k: 3, >=100k: 2, >=25k: 1
    renewal proximity           days to renewal      <=30: 3, <=90: 2, <=180: 1
    strategic tier              account tier         strategic: 2, enterprise: 1
    urgent tickets open         count                >=1: 1
    urgent tickets past SLA     count                >=1: 1
    executive involved          yes / no             yes: 1
    trigger                     rule                 the rule's own weight

    total >= 8: Sev1, >= 5: Sev2, >= 3: Sev3, else Sev4

"Executive involved" means the departed champion was an executive, or the account has an
executive contact while it has an urgent ticket open (the customer's leadership will hear).
"""

from __future__ import annotations

from escalation.config import EscalationConfig, Severity, SeverityConfig
from escalation.decisions import SeverityAssessment, SeverityRow
from escalation.facts import AccountFacts


def assess_severity(
    facts: AccountFacts,
    config: EscalationConfig,
    *,
    rule: str,
    sla_breaches: int = 0,
    executive_involved: bool | None = None,
) -> SeverityAssessment:
    """Score the account's exposure for one trigger and return severity, table and reasons."""
    sev = config.severity
    rows: list[SeverityRow] = []
    arr = facts.arr_at_stake
    rows.append(
        SeverityRow(
            factor="ARR at stake",
            value=f"${arr:,.0f}",
            points=_at_least(arr, sev.arr_points),
            rule=", ".join(
                f">=${k:,}: {v}" for k, v in sorted(sev.arr_points.items(), reverse=True)
            ),
        )
    )
    days = facts.days_to_renewal
    rows.append(
        SeverityRow(
            factor="renewal proximity",
            value="no renewal date" if days is None else f"{days} days",
            points=0 if days is None or days < 0 else _at_most(days, sev.renewal_points),
            rule=", ".join(f"<={k}d: {v}" for k, v in sorted(sev.renewal_points.items())),
        )
    )
    tier = (facts.tier or "").strip().lower()
    tiers = {k.lower(): v for k, v in sev.tier_points.items()}
    rows.append(
        SeverityRow(
            factor="strategic tier",
            value=facts.tier or "none",
            points=tiers.get(tier, 0),
            rule=", ".join(f"{k}: {v}" for k, v in sev.tier_points.items()),
        )
    )
    urgent = len(facts.open_urgent)
    rows.append(_count_row("urgent tickets open", urgent, sev.urgent_ticket_points))
    rows.append(_count_row("urgent tickets past SLA", sla_breaches, sev.sla_breach_points))
    if executive_involved is None:
        executive_involved = facts.executive_contacts > 0 and urgent > 0
    rows.append(
        SeverityRow(
            factor="executive involved",
            value="yes" if executive_involved else "no",
            points=sev.executive_points if executive_involved else 0,
            rule=f"yes: {sev.executive_points}",
        )
    )
    weight = config.rule(rule).weight
    rows.append(SeverityRow(factor="trigger", value=rule, points=weight, rule=f"{rule}: {weight}"))
    total = sum(r.points for r in rows)
    return SeverityAssessment(
        severity=severity_for(total, sev),
        points=total,
        rows=rows,
        reasons=[f"{r.factor}: {r.value} (+{r.points})" for r in rows if r.points],
    )


def severity_for(points: int, sev: SeverityConfig) -> Severity:
    """The highest severity whose threshold the total reaches."""
    for name in ("sev1", "sev2", "sev3"):
        if points >= sev.thresholds[name]:  # type: ignore[index]
            return name  # type: ignore[return-value]
    return "sev4"


def severity_rank(severity: str) -> int:
    """1 for sev1 (most severe) .. 4 for sev4."""
    return int(severity.removeprefix("sev"))


def _at_least(value: float, table: dict[int, int]) -> int:
    return max((p for k, p in table.items() if value >= k), default=0)


def _at_most(value: int, table: dict[int, int]) -> int:
    return max((p for k, p in table.items() if value <= k), default=0)


def _count_row(factor: str, count: int, points: int) -> SeverityRow:
    return SeverityRow(
        factor=factor, value=str(count), points=points if count else 0, rule=f">=1: {points}"
    )
