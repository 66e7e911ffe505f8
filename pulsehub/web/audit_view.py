"""The score-audit page's views: the fitted model's calibration plot and lead-time curve, and
the stored trust audit's weekly drift and override charts (scoring/trust.py).

Everything here is drawn from stored rows: the page never re-reads snapshots.
"""

from __future__ import annotations

import math
from typing import Any

from pulsehub.web.charts import COLORS, line_chart, reliability_diagram

MODERATE, SHIFTED = 0.1, 0.25  # PSI rule of thumb (scoring/drift.py)
TOP_SIGNALS = 8  # the newest week's most moved signals listed under the drift chart


def _pct(v: float) -> str:
    return f"{v:.0%}"


NO_ALERT = (
    "none fitted with this model (too few renewals judged, or bands.fit is off): "
    "the scorecard's risk.high_at applies"
)
CURVE_MIN_RENEWALS = 5  # a lead-time point judged on fewer renewals of its kind is not drawn


def _share(point: dict[str, Any], share: str, judged: str) -> float | None:
    """A curve point's share, or None (a gap) when it was judged on too few renewals: one lost
    renewal drew a point at 100% or 0%."""
    return point[share] if (point.get(judged) or 0) >= CURVE_MIN_RENEWALS else None


def audit_charts(output: Any) -> tuple[dict[str, Any], Any]:
    """The calibration plot and lead-time curve drawn from the stored audit, and the rest of
    it for the table (the lists behind the charts are not repeated as text)."""
    if not isinstance(output, dict):
        return {}, output
    rest = dict(output)
    charts: dict[str, Any] = {}
    bins = rest.pop("reliability", None)
    if bins:
        charts["calibration"] = reliability_diagram(
            bins, title="Calibration: predicted against observed renewal loss"
        )
    bands = rest.pop("bands", None)
    if isinstance(bands, dict):
        curve = [c for c in bands.get("curve", []) if c.get("detected") is not None]
        if curve:
            charts["lead"] = line_chart(
                [f"{c['lead_days']} d" for c in curve],
                {
                    "lost renewals red": [_share(c, "detected", "lost") for c in curve],
                    "won renewals red (false alarms)": [
                        _share(c, "false_alarms", "won") for c in curve
                    ],
                },
                title="Share of renewals flagged red N days before the decision",
                ymax=1.0, fmt=_pct, width=560, height=300,
                colors=[COLORS["red"], COLORS["unknown"]],
            )  # fmt: skip
        charts["bands"] = bands
    if "alert" in rest and rest["alert"] is None:  # no high-risk threshold fitted with it
        rest["alert"] = NO_ALERT
    return charts, rest


def trust_view(row: Any) -> dict[str, Any] | None:
    """The stored trust audit as the page shows it: when it was made, the week-over-week
    drift chart and the newest week's most moved signals, the weekly override-rate chart and
    the overrides judged on their renewals."""
    if row is None:
        return None
    report: dict[str, Any] = row.report or {}
    drift = report.get("drift") or {}
    overrides = report.get("overrides") or {}
    view: dict[str, Any] = {
        "made": f"{row.created_at:%Y-%m-%d %H:%M} UTC",
        "source": row.source,
        "as_of": None if row.as_of is None else row.as_of.isoformat(),
        "drift": drift,
        "overrides": overrides,
    }
    weeks = drift.get("weeks") or []
    if weeks:
        labels = [w["current"][5:] for w in weeks]
        tops = [w.get("largest_signal") or {} for w in weeks]
        largest = [t.get("psi") for t in tops]
        values = [v for v in [*largest, *(w["score"] for w in weeks)] if v is not None]
        ymax = _psi_axis(max(values, default=0.0))
        view["drift_chart"] = line_chart(
            labels,
            {"score": [w["score"] for w in weeks], "most moved signal": largest},
            title="Week-over-week drift (PSI) of the score and the most moved signal",
            ymax=ymax, fmt=lambda v: f"{v:.2f}",
            bands=[(MODERATE, SHIFTED, "yellow"), (SHIFTED, ymax, "red")],
            colors=["#3566c8", COLORS["unknown"]], width=560, height=240,
            notes={"most moved signal": [t.get("name") for t in tops]},
        )  # fmt: skip
        latest = drift.get("latest_signals") or {}
        view["top_signals"] = sorted(latest.items(), key=lambda kv: -kv[1])[:TOP_SIGNALS]
    weekly = overrides.get("weekly") or []
    if any(w["accounts"] for w in weekly):
        rates = [w["override_rate"] for w in weekly]
        view["override_chart"] = line_chart(
            [w["day"][5:] for w in weekly],
            {"accounts under an override": rates},
            title="Share of scored accounts under a CSM override, by week",
            ymax=max(0.05, *(r for r in rates if r is not None)), fmt=_pct_fine,
            width=560, height=240,
        )  # fmt: skip
    return view


def _psi_axis(top: float) -> float:
    """A round top for the drift chart, never under 0.3: the shifted zone always shows."""
    for step in (0.3, 0.5, 1.0, 2.0, 5.0):
        if top <= step:
            return step
    return float(math.ceil(top / 5) * 5)


def _pct_fine(v: float) -> str:
    return f"{v:.1%}" if v < 0.1 else f"{v:.0%}"
