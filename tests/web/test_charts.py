"""The hand-drawn SVG charts: well-formed, escaped, and proportional to the data."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from pulsehub.web import charts
from pulsehub.web.charts import _label_indices

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_stacked_columns_are_proportional_and_escaped():
    svg = parse(
        charts.stacked_columns(["<w1>", "w2"], {"green": [30, 10], "red": [10, 0]}, title="t&t")
    )
    rects = svg.findall(f"{NS}rect")
    heights = {r.find(f"{NS}title").text: float(r.get("height")) for r in rects}
    assert heights["<w1> green: 30"] == 3 * heights["<w1> red: 10"]
    assert heights["w2 green: 10"] == heights["<w1> red: 10"]
    assert "w2 red: 0" not in heights  # empty segments are not drawn
    assert svg.get("aria-label") == "t&t"


def test_hbars_scale_to_the_largest_value():
    svg = parse(charts.hbars([("a", 50), ("b", 100), ("c", 0)], title="bars"))
    widths = [float(r.get("width")) for r in svg.findall(f"{NS}rect")]
    assert widths[1] == 2 * widths[0] and widths[2] == 1


def test_line_chart_breaks_at_missing_values():
    svg = parse(charts.line_chart(["a", "b", "c", "d"], {"s": [1.0, None, 2.0, 3.0]}, title="l"))
    path = svg.find(f"{NS}path").get("d")
    assert path.count("M") == 2 and path.count("L") == 1
    assert len(svg.findall(f"{NS}circle")) == 3


def test_x_labels_never_crowd_and_keep_the_last():
    assert _label_indices(5, 8) == [0, 1, 2, 3, 4]
    picked = _label_indices(14, 8)
    assert picked[-1] == 13 and picked[0] == 0
    gaps = [b - a for a, b in itertools.pairwise(picked)]
    assert min(gaps) >= 2 and len(picked) <= 8


def test_empty_data_still_draws():
    assert parse(charts.line_chart([], {"s": []}, title="e")) is not None
    assert parse(charts.stacked_columns([], {}, title="e")) is not None


def test_y_axis_labels_never_repeat() -> None:
    import re

    from pulsehub.web import charts

    for top in (1, 2, 3, 5, 100):
        svg = str(charts.line_chart(["a", "b"], {"users": [0.0, float(top)]}, title="t",
                                    fmt=lambda v: f"{v:.0f}"))  # fmt: skip
        ticks = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', svg)
        assert len(ticks) == len(set(ticks)) >= 2, (top, ticks)


def test_percentages_never_read_minus_zero() -> None:
    from pulsehub.web.rendering import pct

    assert pct(-0.001) == "0%" and pct(-0.2) == "-20%" and pct(0.004, 1) == "0.4%"


def test_y_axis_ticks_are_round_numbers() -> None:
    """A weekly first-reply chart topping at 3 hours read 0, 0.8, 1.5, 2.2, 3 (quarter steps
    rounded to one decimal); an escalation rate topping at 0.15 read 0.04, 0.08, 0.11."""
    import re

    for top, fmt, expected in (
        (3.0, lambda v: f"{v:.1f}h", ["0.0h", "1.0h", "2.0h", "3.0h"]),
        (0.15, lambda v: f"{v:.2f}", ["0.00", "0.05", "0.10", "0.15"]),
        (100.0, lambda v: f"{v:.0f}", ["0", "25", "50", "75", "100"]),
        (1.2, lambda v: f"{v:.1f}", ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"]),
        (2.0, lambda v: f"{v:.0f}", ["0", "1", "2"]),
    ):
        svg = str(charts.line_chart(["a", "b"], {"s": [0.0, top]}, title="t", fmt=fmt))
        ticks = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', svg)[:-1]  # less the last x label
        assert ticks == expected, (top, ticks)
