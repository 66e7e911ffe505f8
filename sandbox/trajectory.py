"""The hidden health trajectory of an account: the truth every observable signal is drawn from."""

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


@dataclass(slots=True)
class Trajectory:
    """Health in [0, 1] as a function of the day ordinal; 0 after churn.

    `decline_start`..`decline_end` is the window where health slides from `base` to `floor`
    (churn happens at `churn_day`, the renewal that is lost); `recovering` accounts dip in that
    window and come back; `onboarding` accounts ramp up from `start_day`.
    """

    kind: str
    base: float
    floor: float
    start_day: int
    decline_start: int | None = None
    decline_end: int | None = None
    churn_day: int | None = None
    phase: int = 0

    def health(self, day: int) -> float:
        """Hidden health on a day (ordinal); 0 before the customer started or after churn."""
        if day < self.start_day or (self.churn_day is not None and day >= self.churn_day):
            return 0.0
        wobble = 0.03 * math.sin((day + self.phase) / 9.0)
        h = self.base
        if self.kind == ONBOARDING:
            h = 0.35 + (self.base - 0.35) * min(1.0, (day - self.start_day) / 60.0)
        elif (
            self.decline_start is not None
            and self.decline_end is not None
            and day >= self.decline_start
        ):
            span = max(1, self.decline_end - self.decline_start)
            frac = min(1.0, (day - self.decline_start) / span)
            if self.kind == RECOVERING:
                frac = math.sin(math.pi * frac)
            h = self.base - (self.base - self.floor) * frac
        return max(0.02, min(1.0, h + wobble))

    def active(self, day: int) -> bool:
        """Whether the account is a live customer on that day."""
        return day >= self.start_day and (self.churn_day is None or day < self.churn_day)

    def as_dict(self) -> dict[str, object]:
        """Plain dict for `world.truth`."""
        return asdict(self)
