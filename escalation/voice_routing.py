"""Which feedback themes deteriorated past their thresholds this period: pure, no I/O.

`deteriorated` reads a theme's figures (`reporting.voice_themes.ThemeFigures`) against the
configured thresholds and says why it needs an owner's intervention, or None. The period
key names the calendar month of the as-of day: a theme alerts at most once per month, and
the alert's outbox key is derived from it so a re-run queues nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from escalation.voice_config import Owner, VoiceConfig


class Figures(Protocol):
    """What routing reads of a theme (reporting.voice_themes.ThemeFigures has it)."""

    @property
    def theme(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def accounts(self) -> int: ...

    @property
    def affected_arr(self) -> float: ...

    @property
    def impact(self) -> float: ...

    @property
    def impact_before(self) -> float: ...

    @property
    def detractor_share(self) -> float | None: ...

    @property
    def detractor_share_before(self) -> float | None: ...

    @property
    def nps_mentions(self) -> int: ...

    @property
    def nps_mentions_before(self) -> int: ...

    @property
    def top_segment(self) -> str | None: ...


@dataclass(frozen=True)
class ThemeAlert:
    """A theme to hand to its owner, with the reason in words."""

    theme: str
    period: str
    reason: str
    owner: Owner | None

    @property
    def key(self) -> str:
        """The owner task's outbox key: one per theme and period."""
        return f"voice:{self.theme}:{self.period}"[:255]


def period_of(as_of: dt.date) -> str:
    """The alerting period of a day: its calendar month, `YYYY-MM`."""
    return f"{as_of.year:04d}-{as_of.month:02d}"


def deteriorated(f: Figures, book_arr: float, config: VoiceConfig) -> str | None:
    """Why theme `f` needs intervention this period (None: it does not)."""
    t = config.thresholds
    if f.accounts < t.min_accounts:
        return None
    reasons = []
    rise = (f.impact - f.impact_before) / book_arr if book_arr > 0 else 0.0
    grown = f.impact >= t.impact_growth * f.impact_before if f.impact_before > 0 else f.impact > 0
    if rise >= t.impact_rise and grown:
        reasons.append(
            f"ARR-weighted impact {f.impact:,.0f}, up from {f.impact_before:,.0f} the previous "
            f"period (+{100 * rise:.0f}% of the book's ARR)"
        )
    now, before = f.detractor_share, f.detractor_share_before
    if (
        now is not None
        and before is not None  # no baseline, no rise to measure
        and f.nps_mentions >= t.min_responses
        and f.nps_mentions_before >= t.min_responses
        and now - before >= t.detractor_points
    ):
        reasons.append(
            f"detractors {now:.0f}% of its {f.nps_mentions} NPS mentions, up from {before:.0f}%"
        )
    return "; ".join(reasons) or None


def decide(
    all_figures: list[Figures], book_arr: float, config: VoiceConfig, as_of: dt.date
) -> list[ThemeAlert]:
    """Every theme that deteriorated, with its owner by the routing table."""
    period = period_of(as_of)
    alerts = []
    for f in all_figures:
        reason = deteriorated(f, book_arr, config)
        if reason is None:
            continue
        route = config.route(f.theme, f.top_segment)
        alerts.append(ThemeAlert(f.theme, period, reason, route.owner if route else None))
    return alerts
