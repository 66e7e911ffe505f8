"""The escalation triggers (pure): account facts + rules config -> decisions.

Triggers are level conditions ("is red", "has 3 tickets on one problem"), not events, so a
decision keeps being produced while its condition holds and disappears when it clears;
the lifecycle turns that into open -> update -> resolve with one row per dedup key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from escalation.clusters import TicketFact, poisson_tail
from escalation.config import EscalationConfig, RuleConfig
from escalation.decisions import AccountSummary, Decision
from escalation.facts import AccountFacts
from escalation.severity import assess_severity, severity_rank

# (reason, title, evidence, linked ticket ids, extra severity inputs)
Fired = tuple[str, str, dict[str, Any], list[int], dict[str, Any]]


def evaluate(facts: AccountFacts, config: EscalationConfig) -> list[Decision]:
    """Every decision the enabled rules make for one account, in rule order."""
    decisions: list[Decision] = []
    summary = AccountSummary(**{name: getattr(facts, name) for name in AccountSummary.model_fields})
    for name, trigger in TRIGGERS.items():
        rule = config.rule(name)
        if not rule.enabled:
            continue
        for reason, title, evidence, ticket_ids, sev_kwargs in trigger(facts, rule):
            assessment = assess_severity(facts, config, rule=name, **sev_kwargs)
            if rule.min_severity and _less_severe(assessment.severity, rule.min_severity):
                continue
            decisions.append(
                Decision(
                    account=summary,
                    rule=name,
                    reason=reason,
                    title=f"{facts.name}: {title}",
                    severity=assessment.severity,
                    assessment=assessment,
                    evidence={**_health(facts), **evidence},
                    ticket_ids=ticket_ids,
                )
            )
    return one_per_account(decisions, facts.active_rules, config.one_per_account)


def one_per_account(
    decisions: list[Decision], active_rules: list[str], group: list[str]
) -> list[Decision]:
    """Of the `group` rules firing, keep those already escalated, else the first in `group`.

    The kept decision lists the others under `also_firing`, so the owner sees every reason
    on one task; when it clears, the next reason still holding opens its own.
    """
    grouped = [d for d in decisions if d.rule in group]
    if len(grouped) < 2:
        return decisions
    keep = {d.rule for d in grouped if d.rule in active_rules}
    keep = keep or {min(grouped, key=lambda d: group.index(d.rule)).rule}
    also = [d.title for d in grouped if d.rule not in keep]
    result: list[Decision] = []
    for d in decisions:
        if d.rule in group and d.rule not in keep:
            continue
        if also and d.rule in keep:
            d = d.model_copy(update={"evidence": {**d.evidence, "also_firing": also}})
            also = []
        result.append(d)
    return result


def _less_severe(severity: str, minimum: str) -> bool:
    return severity_rank(severity) > severity_rank(minimum)


def _health(f: AccountFacts) -> dict[str, Any]:
    s = f.latest
    return {
        "as_of": f.as_of.isoformat(),
        "score": None if s is None else s.score,
        "band": None if s is None else s.band,
        "trend_28d": None if s is None else s.trend_28d,
        "drivers": [] if s is None else [_text(r) for r in (s.risk_drivers or s.reasons)][:8],
        "arr_at_stake": f.arr_at_stake,
        "renewal_date": None if f.renewal_date is None else f.renewal_date.isoformat(),
    }


def band_red(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    if f.latest is not None and f.latest.band == "red":
        fell_from = f.band_before or "unknown"
        yield "band_red", f"health is red (was {fell_from})", {"from_band": fell_from}, [], {}


def band_yellow(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    if f.latest is not None and f.latest.band == "yellow" and f.band_before == "green":
        yield "band_yellow_from_green", "health fell from green to yellow", {}, [], {}


def score_drop(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    if f.latest is None or f.latest.score is None:
        return
    if f.baseline_28d is not None and f.baseline_28d.score is not None:
        drop = f.baseline_28d.score - f.latest.score
        since = f.baseline_28d.as_of.isoformat()
    elif f.latest.trend_28d is not None:
        drop, since = -f.latest.trend_28d, "28 days ago (trend)"
    else:
        return
    if drop >= rule.min_drop:
        evidence = {"drop": round(drop, 1), "since": since}
        yield "score_drop", f"health score dropped {drop:.0f} points in 28 days", evidence, [], {}


def renewal_review(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    days = f.days_to_renewal
    if f.latest is None or f.latest.band == "green" or days is None or f.renewal_date is None:
        return
    if 0 <= days <= rule.within_days:
        evidence = {
            "days_to_renewal": days,
            "risk_level": f.latest.risk_level,
            "open_tickets": [_ticket(t) for t in f.open_tickets][:10],
            "open_urgent": len(f.open_urgent),
        }
        yield (
            f"renewal_{f.renewal_date.isoformat()}",
            f"renewal review: renews in {days} days while {f.latest.band.replace('_', ' ')}",
            evidence,
            [t.helpdesk_id for t in f.open_tickets][:20],
            {},
        )


def repeated_issue(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    """>= min_tickets on one problem, and more than the account's usual rate explains."""
    for c in f.clusters:
        n = len(c.ticket_ids)
        if n < rule.min_tickets:
            continue
        p = poisson_tail(n, max(c.expected, c.book_expected, rule.min_expected))
        if rule.baseline_days and p > rule.max_p:
            continue
        evidence = {
            "signature": c.signature,
            "subjects": c.subjects[:10],
            "first_at": c.first_at.isoformat(),
            "last_at": c.last_at.isoformat(),
            "usual_in_window": c.expected,
            "book_norm_in_window": c.book_expected,
            "chance": f"{p:.2%}",
        }
        title = f"repeated issue: {n} tickets in {rule.window_days} days ({c.signature})"
        yield f"repeat_{c.signature}", title, evidence, c.ticket_ids, {}


def urgent_sla_breach(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    tiers = {t.lower() for t in rule.tiers}
    if not tiers or (f.tier or "").strip().lower() not in tiers:
        return
    breaches = [t for t in f.open_urgent if _sla_breach(t, rule)]
    if rule.per_account and breaches:
        evidence = {
            "tickets": [_ticket(t) for t in breaches][:10],
            "first_reply_sla_h": rule.first_reply_hours,
            "resolution_sla_h": rule.resolution_hours,
        }
        oldest = max(t.age_hours for t in breaches)
        title = f"{len(breaches)} urgent ticket(s) past SLA (oldest {oldest:.0f}h open)"
        ids = [t.helpdesk_id for t in breaches]
        yield "sla_breach", title, evidence, ids, {"sla_breaches": len(breaches)}
        return
    for t in breaches:
        evidence = {
            "ticket": _ticket(t),
            "first_reply_sla_h": rule.first_reply_hours,
            "resolution_sla_h": rule.resolution_hours,
        }
        title = f"urgent ticket #{t.helpdesk_id} past SLA ({t.age_hours:.0f}h open)"
        yield (
            f"sla_{t.helpdesk_id}",
            title,
            evidence,
            [t.helpdesk_id],
            {"sla_breaches": len(breaches)},
        )


def _sla_breach(t: TicketFact, rule: RuleConfig) -> bool:
    first_reply_limit = rule.first_reply_hours * 60
    if t.first_reply_minutes is None:
        late_reply = t.age_hours * 60 > first_reply_limit
    else:
        late_reply = t.first_reply_minutes > first_reply_limit
    return late_reply or t.age_hours > rule.resolution_hours


def csat_turning_bad(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    recent = f.csat_recent_good + f.csat_recent_bad
    if f.csat_recent_bad < rule.min_bad or recent == 0:
        return
    share = f.csat_recent_bad / recent
    prior = f.csat_prior_good + f.csat_prior_bad
    prior_share = f.csat_prior_bad / prior if prior else 0.0
    if share >= rule.bad_share and share - prior_share >= max(rule.min_rise, 1e-9):
        evidence = {
            "recent_bad": f.csat_recent_bad,
            "recent_rated": recent,
            "bad_share": round(share, 2),
            "prior_bad_share": round(prior_share, 2),
        }
        yield (
            "csat_bad",
            f"CSAT turning bad ({share:.0%} bad, was {prior_share:.0%})",
            evidence,
            [],
            {},
        )


def champion_left(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    for c in f.champions_left:
        evidence = {"contact": c.model_dump(mode="json")}
        role = (c.title or "").strip().strip("()").strip()  # CRMs write "(left company)"
        title = f"champion left: {c.name or c.crm_id}" + (f" ({role})" if role else "")
        yield f"champion_{c.crm_id}", title, evidence, [], {"executive_involved": c.is_executive}


def contradiction(f: AccountFacts, rule: RuleConfig) -> Iterator[Fired]:
    for item in f.latest.contradictions if f.latest else []:
        code = (
            str(item.get("code") or item.get("name") or item)
            if isinstance(item, dict)
            else str(item)
        )
        text = _text(item) if isinstance(item, dict) else code
        yield f"contradiction_{code}", f"signals disagree: {text}", {"contradiction": item}, [], {}


def _text(item: Any) -> str:
    """Scoring's reasons/drivers/contradictions are dicts with a `text`; older ones strings."""
    if isinstance(item, dict):
        return str(item.get("text") or item.get("message") or item.get("name") or item)
    return str(item)


def _ticket(t: TicketFact) -> dict[str, Any]:
    return {
        "id": t.helpdesk_id,
        "subject": t.subject,
        "priority": t.priority,
        "status": t.status,
        "age_hours": round(t.age_hours, 1),
    }


TRIGGERS: dict[str, Callable[[AccountFacts, RuleConfig], Iterator[Fired]]] = {
    "band_red": band_red,
    "band_yellow": band_yellow,
    "score_drop": score_drop,
    "renewal_review": renewal_review,
    "repeated_issue": repeated_issue,
    "urgent_sla_breach": urgent_sla_breach,
    "csat_turning_bad": csat_turning_bad,
    "champion_left": champion_left,
    "contradiction": contradiction,
}
