"""Each account's fate: latent drivers first, then every renewal decided as a noisy outcome of them.

The generative process (documented for the audit; its numbers are the world's, never the
scorecard's, and the scorecard was not tuned against them):

1. **Latent traits.** `base` engagement (0.35 to 0.95, skewed high), support `friction`
   (0 to 1, mostly low) and a seasonal amplitude (0 to 0.16; every account dips in December).
2. **Events** anywhere from 420 days ago to 400 days ahead, none observed directly:
   a *budget cut* (15%; half show as a downsell at the next won renewal), an *acquisition*
   (6%), the *champion leaving* (18%; recorded in the CRM for 60% of them — the contact
   deleted or demoted, half each — and a successor entered as a new contact for half of those), and a *usage decline* (22%, or 50% within two months of a champion
   leaving) of 25 to 70% of base over 30 to 120 days, which recovers for 35% of decliners.
   Expansions are booked by engaged accounts (10% + 40% x (base - 0.35)), churners included.
3. **Renewals** from 420 days ago to 400 days ahead are decided in order, each lost with
   probability sigmoid(-3.55 + 10.5 x decline depth 30 days before + 8.75 x friction + 2.45 x
   budget cut in the past 300 days + 4.2 x acquired in the past year + 1.9 x champion gone in
   the past 240 days + 10.5 x (0.6 - base) + N(0, 0.5)); the first loss is the churn. About
   22% of decided renewals are lost. How predictable that is (`python -m bench
   world_ceiling`, 8,000 drawn accounts): knowing every latent driver exactly ranks lost renewals at AUC 0.91; knowing only
   the ones the data can show (decline, friction, base, a recorded champion loss) at 0.875;
   any one driver alone at 0.53 (acquisition) to 0.71 (friction). So no signal can be strong on
   its own, and a perfect reader of the data still stops near 0.88 (budget cuts and
   acquisitions are invisible, and every decision is a draw).
4. **Passing dips** (45% of accounts, drawn after the renewals are decided, so they cannot
   move them): a re-org, a project ending or a team on leave takes 15 to 50% of base
   engagement off over 14 to 60 days and gives it back over 30 to 120. Usage change, seat
   use and support volume see it exactly as they see a decline that matters.
5. **After the decision**, 65% of churners wind down (health falls a further 10 to 35% over
   their last 45 to 150 days); the rest leave looking as they did.

So declining accounts renew, healthy-looking accounts churn, declines recover, every account
has a season, and support signals carry information of their own (friction drives ticket
volume, reply and resolution times, reopens and bad CSAT, and churn).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from sandbox.dates import anniversary_after
from sandbox.trajectory import (
    CHURNED,
    DECLINING,
    HEALTHY,
    HISTORIC_CHURN,
    ONBOARDING,
    RECOVERING,
    Trajectory,
)

PAST, AHEAD = 420, 400  # days of simulated decisions around "now"
INTERCEPT = -3.55  # of the renewal decision's log-odds (about 22% of decided renewals lost)
DIP_SHARE = 0.45  # accounts with one passing usage dip (re-org, project end) in the window


@dataclass(slots=True)
class Fate:
    """An account's trajectory, start day, next renewal after today, and its hidden drivers."""

    trajectory: Trajectory
    since: int
    next_renewal: int
    budget_cut: int | None = None
    acquired: int | None = None
    champion_left: int | None = None
    champion_recorded: bool = False
    decisions: list[tuple[int, bool]] = field(default_factory=list)  # (day, lost) in order

    def drivers(self) -> dict[str, object]:
        """The hidden drivers, for `world.truth`."""
        day = dt.date.fromordinal
        return {
            "budget_cut": None if self.budget_cut is None else day(self.budget_cut),
            "acquired": None if self.acquired is None else day(self.acquired),
            "champion_left": None if self.champion_left is None else day(self.champion_left),
            "champion_recorded": self.champion_recorded,
            "friction": round(self.trajectory.friction, 3),
            "base": round(self.trajectory.base, 3),
        }


def _event(rng: random.Random, p: float, today: int) -> int | None:
    return today + rng.randint(-PAST, AHEAD) if rng.random() < p else None


def _within(event: int | None, day: int, before: int, after: int = 0) -> float:
    return 1.0 if event is not None and day - before <= event <= day - after else 0.0


def draw_fate(rng: random.Random, today: int) -> Fate:
    """Draw one account's traits and events, then decide its renewals (see the module doc)."""
    onboarding = rng.random() < 0.08
    since = today - (rng.randint(5, 100) if onboarding else rng.randint(120, 1500))
    base = 0.35 + 0.6 * rng.betavariate(3, 2)
    traj = Trajectory(HEALTHY, base, base, since, phase=rng.randrange(60))
    traj.friction = rng.betavariate(1.3, 4.0)
    traj.season = rng.uniform(0.0, 0.16)
    fate = Fate(traj, since, 0)
    fate.budget_cut = _event(rng, 0.15, today)
    fate.acquired = _event(rng, 0.06, today)
    fate.champion_left = _event(rng, 0.18, today)
    fate.champion_recorded = fate.champion_left is not None and rng.random() < 0.6
    start = None
    if fate.champion_left is not None and rng.random() < 0.5:
        start = fate.champion_left + rng.randint(0, 60)
    elif rng.random() < 0.22:
        start = today + rng.randint(-PAST, AHEAD)
    if start is not None:
        traj.decline_start, traj.decline_end = start, start + rng.randint(30, 120)
        traj.floor = base * (1.0 - rng.uniform(0.25, 0.7))
        if rng.random() < 0.35:
            traj.recover_days = rng.randint(40, 120)
    traj.churn_day = _decide_renewals(rng, fate, today)
    if rng.random() < DIP_SHARE:  # a passing dip the renewal never hears of
        traj.dip_start = today + rng.randint(-PAST, AHEAD)
        traj.dip_days, traj.dip_recover = rng.randint(14, 60), rng.randint(30, 120)
        traj.dip_depth = rng.uniform(0.15, 0.5)
    if traj.churn_day is not None and rng.random() < 0.65:
        traj.wind_down = traj.churn_day - rng.randint(45, 150)
        traj.wind_depth = rng.uniform(0.10, 0.35)
    start_date = dt.date.fromordinal(since)
    fate.next_renewal = anniversary_after(start_date, dt.date.fromordinal(today + 1)).toordinal()
    if traj.churn_day is not None and traj.churn_day > today:
        fate.next_renewal = min(fate.next_renewal, traj.churn_day)
    traj.kind = _kind(traj, today)
    return fate


def _decide_renewals(rng: random.Random, fate: Fate, today: int) -> int | None:
    """The first lost renewal among those decided in the simulated window, if any."""
    since = dt.date.fromordinal(fate.since)
    day = anniversary_after(since, since + dt.timedelta(days=300))
    while day.toordinal() <= today + AHEAD:
        r = day.toordinal()
        day = anniversary_after(since, day + dt.timedelta(days=300))
        if r < today - PAST:
            continue
        z = INTERCEPT
        for push in driver_log_odds(fate, r).values():
            z += push
        z += rng.gauss(0.0, 0.5)
        lost = rng.random() < 1.0 / (1.0 + math.exp(-z))
        fate.decisions.append((r, lost))
        if lost:
            return r
    return None


def driver_log_odds(fate: Fate, r: int) -> dict[str, float]:
    """Each driver's push on the log-odds that the renewal decided on day `r` is lost (step 3
    of the module doc; the intercept and the N(0, 0.5) noise come on top)."""
    traj = fate.trajectory
    return {
        "decline": 10.5 * traj.decline_fraction(r - 30) * (1.0 - traj.floor / traj.base),
        "friction": 8.75 * traj.friction,
        "budget_cut": 2.45 * _within(fate.budget_cut, r, 300, 20),
        "acquired": 4.2 * _within(fate.acquired, r, 365, 10),
        "champion_left": 1.9 * _within(fate.champion_left, r, 240, 15),
        "engagement": 10.5 * (0.6 - traj.base),
    }


def _kind(traj: Trajectory, today: int) -> str:
    """A label for tests and truth: what the account looks like today (not what drives it)."""
    if traj.churn_day is not None and traj.churn_day <= today:
        return HISTORIC_CHURN if traj.churn_day < today - 180 else CHURNED
    if today - traj.start_day < 100:
        return ONBOARDING
    if traj.decline_start is not None and traj.decline_start <= today:
        return (
            RECOVERING
            if traj.recover_days
            and traj.decline_fraction(today) < 1.0
            and (today > (traj.decline_end or today))
            else DECLINING
        )
    return HEALTHY
