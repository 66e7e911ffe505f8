"""The account page's signal table reads each value in its unit, as the reasons do."""

from __future__ import annotations

from pulsehub.web.signals_view import signal_rows
from scoring.config import load_scorecard
from scoring.units import format_value


def test_hours_of_three_days_and_more_read_as_days_not_as_hours_called_days() -> None:
    """80 hours to resolve showed as "80 days" beside a reason saying "3 days"."""
    assert format_value("hours", 80.0) == "3 days"
    assert format_value("hours", 71.5) == "71.5 hours"
    assert format_value("hours", 1.8) == "1.8 hours"
    rows = {r.name: r for r in signal_rows({"resolution_hours": 80.0}, load_scorecard())}
    assert rows["resolution hours"].value == "3 days"
    assert rows["resolution hours"].healthy == "31.0 hours or less"
