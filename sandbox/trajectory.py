"""The hidden health path of an account: what its usage and support signals are drawn from.

Health is no longer the churn decision in disguise (see `sandbox.gen_fate` for the whole
generative process): a usage decline is one *driver* of churn, drawn before the renewal is
decided; an account that decided to leave may also wind down in its last weeks; every account
follows the same yearly season; support friction is a separate latent trait.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

HEALTHY, DECLINING, CHURNED, RECOVERING, ONBOARDING, HISTORIC_CHURN = (
    "healthy",
    "declining",
    "churned",
    "recovering",
    "onboarding",
    "historic_churn",
)
SEASON_TROUGH = 349  # day of year (mid-December): every book's quietest weeks
_YEAR = 365.25


@dataclass(slots=True)
class Trajectory:
    """Health in [0, 1] as a function of the day ordinal; 0 before the start and after churn.

    `decline_start`..`decline_end` slides health from `base` to `floor`; with `recover_days`
    it climbs back to `base` over that many days. `wind_down` starts a second slide of
    `wind_depth` ending at `churn_day` (a customer that already chose to leave). `season` is
    the amplitude of the yearly cycle; `friction` (0..1) is support pain, not usage. A
    *dip* (`dip_start`, falling over `dip_days` by `dip_depth` of base, back up over
    `dip_recover` days) is a re-org, a project ending or a team on leave: usage falls and
    returns, and the renewal never hears of it.
    """

    kind: str
    base: float
    floor: float
    start_day: int
    decline_start: int | None = None
    decline_end: int | None = None
    churn_day: int | None = None
    phase: int = 0
    recover_days: int = 0
    season: float = 0.0
    friction: float = 0.0
    wind_down: int | None = None
    wind_depth: float = 0.0
    dip_start: int | None = None
    dip_days: int = 0
    dip_recover: int = 0
    dip_depth: float = 0.0

    def dip(self, day: int) -> float:
        """The share of base a passing dip takes off on a day (0 outside it)."""
        if self.dip_start is None or day < self.dip_start:
            return 0.0
        t = day - self.dip_start
        if t <= self.dip_days:
            return self.dip_depth * t / max(1, self.dip_days)
        return self.dip_depth * max(0.0, 1.0 - (t - self.dip_days) / max(1, self.dip_recover))

    def decline_fraction(self, day: int) -> float:
        """How far the usage decline has gone on a day (0 none, 1 down to `floor`)."""
        if self.decline_start is None or self.decline_end is None or day < self.decline_start:
            return 0.0
        if day <= self.decline_end:
            return (day - self.decline_start) / max(1, self.decline_end - self.decline_start)
        if self.recover_days:
            return max(0.0, 1.0 - (day - self.decline_end) / self.recover_days)
        return 1.0

    def health(self, day: int) -> float:
        """Hidden health on a day (ordinal); 0 before the customer started or after churn."""
        if day < self.start_day or (self.churn_day is not None and day >= self.churn_day):
            return 0.0
        h = self.base - (self.base - self.floor) * self.decline_fraction(day)
        h -= self.base * self.dip(day)
        age = day - self.start_day
        if age < 60:  # onboarding ramp
            h = 0.35 + (h - 0.35) * age / 60.0
        if self.wind_down is not None and self.churn_day is not None and day >= self.wind_down:
            h -= self.wind_depth * (day - self.wind_down) / max(1, self.churn_day - self.wind_down)
        doy = dt_day_of_year(day)
        h -= self.season * math.cos(2 * math.pi * (doy - SEASON_TROUGH) / _YEAR)
        h += 0.03 * math.sin((day + self.phase) / 9.0)
        return max(0.02, min(1.0, h))

    def active(self, day: int) -> bool:
        """Whether the account is a live customer on that day."""
        return day >= self.start_day and (self.churn_day is None or day < self.churn_day)

    def as_dict(self) -> dict[str, object]:
        """Plain dict for `world.truth`."""
        return asdict(self)


def dt_day_of_year(day: int) -> float:
    """Approximate day of the year of an ordinal (good enough for a smooth season)."""
    return (day - 1) % _YEAR
