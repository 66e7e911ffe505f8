"""Survey responses (NPS, CES) with comments, drawn from each account's hidden drivers.

The process (the world's numbers, never the themes file's or the scorecard's):

1. **Who answers.** Every live account with a workspace (the survey runs in-product) gets NPS
   responses at a segment rate (per 30 days: Enterprise 1.6, Mid-Market 0.9, SMB 0.45) and
   CES responses after support contact at a rate growing with support `friction`; each from
   one of the account's contacts.
2. **Scores.** NPS is 10 x (0.3 + 0.85 x health on that day) - 3 x friction + N(0, 1.6),
   rounded into 0-10; CES is 7 - 5 x friction - 2 x (1 - health) + N(0, 1), into 1-7.
   So engagement (`sandbox.trajectory`) and friction (`sandbox.gen_fate`) drive both.
3. **Comments.** Detractors comment most (75%), passives 50%, promoters 40%. An unhappy
   comment is drawn from a theme's vocabulary (performance, billing, onboarding, integrations,
   reporting, bugs, support responsiveness, and a "mobile app" topic no default theme names),
   weighted by the account's situation (friction: bugs and support; young accounts:
   onboarding; a usage decline: performance, reporting); a happy one from praise. Noise words
   are mixed in, and about 3% of comments carry an email address or a phone number.
4. **A recent deterioration.** In the last `INCIDENT_DAYS` days a performance problem hits
   a third of the accounts (Enterprise twice as likely): besides their usual answers they
   send `INCIDENT_RATE` times as many more, about performance, scoring 3 points lower — so the demo's "performance" theme deteriorates
   and its routing opens an owner task. `world.truth["voice"]` names the theme and accounts.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox.formats import day_start, to_epoch
from sandbox.world import World

INCIDENT_DAYS = 21
INCIDENT_RATE = 4.0  # extra NPS answers about the problem, as a multiple of the usual rate
DETERIORATING = "performance"
_NPS_RATE = {"Enterprise": 1.6, "Mid-Market": 0.9, "SMB": 0.45}
VOCABULARY: dict[str, tuple[str, ...]] = {
    "performance": (
        "the dashboard is so slow it times out",
        "pages take forever to load since the last release",
        "reports are sluggish and the app feels laggy",
        "performance has been terrible, loading spinners everywhere",
    ),
    "billing": (
        "the invoice was wrong again",
        "pricing went up and nobody told us",
        "we were charged twice for extra seats",
        "billing is confusing, refund still pending",
    ),
    "onboarding": (
        "onboarding took too long to get set up",
        "setup was confusing and the training did not help",
        "we still have not finished implementation",
    ),
    "integrations": (
        "the CRM sync keeps breaking",
        "the integration with our CRM drops records",
        "webhooks and the API connector fail silently",
    ),
    "reporting": (
        "reporting numbers do not match our own",
        "the report export is missing columns",
        "analytics dashboards are hard to customise",
    ),
    "bugs": (
        "another bug after the update, things break constantly",
        "we keep hitting errors and a crash when saving",
        "broken filters, this bug has been open for weeks",
    ),
    "support_responsiveness": (
        "support never answers our tickets",
        "waiting days for a response from support",
        "the support team is slow to reply and escalations go nowhere",
    ),
    "mobile_app": (  # a topic no default theme names: surfaces as a suggested theme
        "the mobile app crashes on android tablets",
        "offline mode on the mobile app loses our notes",
        "mobile app push notifications never arrive",
    ),
}
PRAISE = (
    "great product, the team loves it",
    "our CSM is fantastic and very helpful",
    "easy to use and saves us hours every week",
    "love the new features, keep it up",
)
NOISE = ("", "", "honestly", "overall", "to be fair", "as mentioned before", "thanks")
PII = ("call me on +1 415 555 0{n:03d}", "reach me at {who}")


def generate_surveys(world: World, rng: random.Random, days: int | None = None) -> None:
    """Survey responses of the last `days` (default: the world's usage history), by time."""
    today = world.clock.today().toordinal()
    days = days or world.usage_days
    by_account = {ws.account_id: ws for ws in world.workspaces}
    contacts: dict[str, list[str]] = {}
    for c in world.contacts:
        contacts.setdefault(c["AccountId"], []).append(c["Email"])
    hit = {
        acc["Id"]
        for acc in world.accounts
        if rng.random() < (0.55 if acc["Segment__c"] == "Enterprise" else 0.28)
    }
    rows: list[tuple[int, dict[str, Any]]] = []
    for acc in world.accounts:
        ws = by_account.get(acc["Id"])
        if ws is None or acc.get("IsDeleted"):
            continue
        traj = world.trajectories[acc["Id"]]
        emails = contacts.get(acc["Id"]) or [f"admin@{ws.domain}"]
        for day in range(today - days, today):
            if not traj.active(day):
                continue
            health = traj.health(day)
            incident = acc["Id"] in hit and day >= today - INCIDENT_DAYS
            nps_rate = _NPS_RATE.get(acc["Segment__c"], 0.5) / 30
            ces_rate = (0.15 + 0.9 * traj.friction) / 30
            age = day - traj.start_day
            draws: list[tuple[str, float, str | None]] = [
                ("nps", nps_rate, None),
                ("ces", ces_rate, None),
            ]
            if incident:  # extra answers, about the problem, from the accounts it hits
                draws.append(("nps", INCIDENT_RATE * nps_rate, DETERIORATING))
            for kind, rate, about in draws:
                if rng.random() >= rate:
                    continue
                theme = about or _theme(rng, traj.friction, age, traj.decline_fraction(day))
                score = _score(rng, kind, health, traj.friction, about is not None)
                who = rng.choice(emails)
                at = to_epoch(day_start(dt.date.fromordinal(day))) + rng.randrange(86400)
                row = {
                    "kind": kind,
                    "score": score,
                    "comment": _comment(rng, kind, score, theme, who),
                    "workspace_id": ws.id,
                    "respondent_email": who,
                    "responded_at": at,
                }
                rows.append((at, row))
    rows.sort(key=lambda r: r[0])
    for n, (at, row) in enumerate(rows):
        world.surveys.append({"id": survey_id(n + 1), **row, "updated_at": at})
    world.truth["voice"] = {
        "deteriorating": DETERIORATING,
        "since": dt.date.fromordinal(today - INCIDENT_DAYS).isoformat(),
        "accounts": sorted(hit),
    }


def survey_id(number: int) -> str:
    """The usage API's id of the `number`-th survey response (ids sort in answer order)."""
    return f"sv_{number:07d}"


def _score(rng: random.Random, kind: str, health: float, friction: float, incident: bool) -> int:
    if kind == "nps":
        x = 10 * (0.3 + 0.85 * health) - 3 * friction + rng.gauss(0, 1.6) - (3 if incident else 0)
        return max(0, min(10, round(x)))
    x = 7 - 5 * friction - 2 * (1 - health) + rng.gauss(0, 1.0) - (1.5 if incident else 0)
    return max(1, min(7, round(x)))


def _theme(rng: random.Random, friction: float, age: int, decline: float) -> str:
    weights = {
        "performance": 0.6 + 1.5 * decline,
        "billing": 1.0,
        "onboarding": 3.0 if age < 120 else 0.3,
        "integrations": 1.0,
        "reporting": 0.8 + decline,
        "bugs": 0.8 + 2 * friction,
        "support_responsiveness": 0.4 + 3 * friction,
        "mobile_app": 0.9,
    }
    r, acc = rng.random() * sum(weights.values()), 0.0
    for theme, weight in weights.items():
        acc += weight
        if r < acc:
            return theme
    return "billing"


def _comment(rng: random.Random, kind: str, score: int, theme: str, who: str) -> str | None:
    happy = score >= 9 if kind == "nps" else score >= 6
    unhappy = score <= 6 if kind == "nps" else score <= 3
    chance = 0.75 if unhappy else 0.4 if happy else 0.5
    if rng.random() >= chance:
        return None
    text = rng.choice(PRAISE) if happy and rng.random() < 0.8 else rng.choice(VOCABULARY[theme])
    noise = rng.choice(NOISE)
    text = f"{noise}, {text}" if noise else text
    if rng.random() < 0.03:
        text += ". " + rng.choice(PII).format(n=rng.randrange(1000), who=who)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
