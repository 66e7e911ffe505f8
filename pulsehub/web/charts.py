"""Inline SVG charts drawn by hand: stacked columns, horizontal bars and line charts (no JS, no CDN)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

COLORS = {
    "green": "#2e9e5b", "yellow": "#e0a800", "red": "#d64545", "insufficient_data": "#9aa4b2",
    "unscored": "#cfd5dd", "high": "#d64545", "medium": "#e0a800", "low": "#2e9e5b",
    "unknown": "#9aa4b2", "sev1": "#8e1b1b", "sev2": "#d64545", "sev3": "#e0a800", "sev4": "#7d8ca3",
    "promoters": "#2e9e5b", "passives": "#b7c0cc", "detractors": "#d64545",
}  # fmt: skip
PALETTE = ("#3566c8", "#2e9e5b", "#e0a800", "#d64545", "#7b4fc9", "#1f9bb3", "#c25e9a")
FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#444"'
Fmt = Callable[[float], str]


def color(key: str, i: int = 0) -> str:
    return COLORS.get(key, PALETTE[i % len(PALETTE)])


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        + "".join(body)
        + "</svg>"
    )


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    step = 10 ** len(str(int(v))) / 10 if v >= 1 else 0.1
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= step * m:
            return step * m
    return v


def stacked_columns(
    labels: Sequence[str], stacks: dict[str, Sequence[float]], *, title: str,
    width: int = 640, height: int = 220, fmt: Fmt = lambda v: f"{v:,.0f}",
) -> Markup:  # fmt: skip
    """One column per label, one colored segment per stack key (e.g. bands over weeks)."""
    left, bottom, top = 44, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    totals = [sum(s[i] for s in stacks.values()) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0))
    n = max(1, len(labels))
    col_w = plot_w / n
    body = _y_axis(left, top, plot_w, plot_h, ymax, fmt)
    for i, label in enumerate(labels):
        x, y = left + i * col_w + col_w * 0.15, float(top + plot_h)
        for k, (key, values) in enumerate(stacks.items()):
            h = plot_h * values[i] / ymax
            y -= h
            if h > 0:
                tip = f"{label} {key.replace('_', ' ')}: {fmt(values[i])}"
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{color(key, k)}"><title>{escape(tip)}</title></rect>'
                )
        if n <= 16 or i % 2 == 0:
            body.append(
                f'<text x="{left + (i + 0.5) * col_w:.1f}" y="{height - 8}" text-anchor="middle" {FONT}>{escape(label)}</text>'
            )
    return _svg(width, height, body, title)


def hbars(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 420,
    fmt: Fmt = lambda v: f"{v:,.0f}", colors: Sequence[str] | None = None,
    links: Sequence[str] | None = None,
) -> Markup:  # fmt: skip
    """Horizontal bars with the value printed after each bar; with `links`, each bar opens
    its own page (the accounts or escalations behind it)."""
    row, left = 26, 120
    height = max(1, len(items)) * row + 8
    vmax = max((v for _, v in items), default=0) or 1
    bar_w = width - left - 90
    body = []
    for i, (label, v) in enumerate(items):
        y = 4 + i * row
        w = bar_w * v / vmax
        fill = colors[i] if colors else color(label, i)
        bar = (
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" {FONT}>{escape(label.replace("_", " "))}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" rx="2" fill="{fill}">'
            f"<title>{escape(label)}: {escape(fmt(v))}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" {FONT}>{escape(fmt(v))}</text>'
        )
        if links:
            bar = f'<a href="{escape(links[i])}" class="bar-link">{bar}</a>'
        body.append(bar)
    return _svg(width, height, body, title)


def line_chart(
    labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str,
    width: int = 640, height: int = 200, fmt: Fmt = lambda v: f"{v:,.1f}",
    ymax: float | None = None, bands: Sequence[tuple[float, float, str]] = (),
    point_colors: Sequence[str] | None = None, colors: Sequence[str] | None = None,
    notes: Mapping[str, Sequence[str | None]] | None = None,
) -> Markup:  # fmt: skip
    """Lines over shared x labels; gaps where a value is None; optional shaded y bands;
    `notes`: per series, a word per point added to its tooltip (e.g. which signal it was)."""
    left, bottom, top = 44, 24, (26 if len(series) > 1 else 10)
    plot_w, plot_h = width - left - 22, height - bottom - top
    values = [v for s in series.values() for v in s if v is not None]
    top_v = ymax if ymax is not None else _nice_max(max(values, default=0))
    n = len(labels)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * min(v, top_v) / top_v

    body = [
        f'<rect x="{left}" y="{top + plot_h - plot_h * hi / top_v:.1f}" width="{plot_w}" '
        f'height="{plot_h * (hi - lo) / top_v:.1f}" fill="{color(key)}" opacity="0.10"/>'
        for lo, hi, key in bands
    ]
    body += _y_axis(left, top, plot_w, plot_h, top_v, fmt)
    for k, (name, vals) in enumerate(series.items()):
        stroke = colors[k] if colors else color(name, k)
        path, pen_down = [], False
        for i, v in enumerate(vals):
            if v is None:
                pen_down = False
                continue
            x, y = xy(i, v)
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
        if path:
            body.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{stroke}" stroke-width="2"/>'
            )
        for i, v in enumerate(vals):
            if v is not None and (n <= 60 or point_colors):
                x, y = xy(i, v)
                fill = point_colors[i] if point_colors else stroke
                note = ((notes or {}).get(name) or [None] * n)[i]
                tip = f"{labels[i]} {name}: {fmt(v)}" + (f" ({note})" if note else "")
                body.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 if n <= 60 else 2}" fill="{fill}">'
                    f"<title>{escape(tip)}</title></circle>"
                )
    for i in _label_indices(n, max(2, plot_w // 70)):
        x, _ = xy(i, 0)
        anchor = "end" if i == n - 1 and n > 1 else "middle"
        body.append(
            f'<text x="{x + (6 if anchor == "end" else 0):.1f}" y="{height - 8}" text-anchor="{anchor}" {FONT}>{escape(labels[i])}</text>'
        )
    if len(series) > 1:
        for k, name in enumerate(series):
            body.append(
                f'<rect x="{left + 8 + k * 120}" y="4" width="10" height="10" fill="{colors[k] if colors else color(name, k)}"/>'
                f'<text x="{left + 22 + k * 120}" y="13" {FONT}>{escape(name)}</text>'
            )
    return _svg(width, height, body, title)


def _label_indices(n: int, most: int) -> list[int]:
    """Evenly spaced x labels, always the last one, never two crowding each other."""
    if n <= most:
        return list(range(n))
    step = -(-n // most)
    picked = list(range(0, n, step))
    if n - 1 - picked[-1] < step:  # too close to the last label: drop it
        picked.pop()
    return [*picked, n - 1]


def _ticks(ymax: float, fmt: Fmt) -> int:
    """How many steps the y axis takes: the first of 4, 5, 3, 6 and 2 whose step is a round
    number (1, 2, 2.5 or 5 times a power of ten: a max of 3 reads 0, 1, 2, 3, not 0, 0.8, 1.5,
    2.2, 3) and whose labels all differ (a max of 2 in whole numbers reads 0, 1, 2 — not 0, 0,
    1, 2, 2); else the most of 4 and 2 whose labels differ, else 1."""
    for steps in (4, 5, 3, 6, 2):
        if _round_step(ymax / steps) and _distinct(ymax, steps, fmt):
            return steps
    for steps in (4, 2):
        if _distinct(ymax, steps, fmt):
            return steps
    return 1


def _round_step(step: float) -> bool:
    if step <= 0:
        return False
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))


def _distinct(ymax: float, steps: int, fmt: Fmt) -> bool:
    labels = [fmt(ymax * t / steps) for t in range(steps + 1)]
    return len(set(labels)) == len(labels)


def _y_axis(left: int, top: int, plot_w: float, plot_h: float, ymax: float, fmt: Fmt) -> list[str]:
    out = []
    steps = _ticks(ymax, fmt)
    for t in range(steps + 1):
        v = ymax * t / steps
        y = top + plot_h - plot_h * t / steps
        out.append(
            f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ec"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{escape(fmt(v))}</text>'
        )
    return out


def reliability_diagram(
    bins: Sequence[dict[str, float]], *, title: str, width: int = 560, height: int = 300
) -> Markup:
    """Predicted (x) against observed (y) churn per probability bin, both 0-100%, with the
    diagonal a calibrated model follows; each point's area is its bin's row count."""
    left, bottom, top, right = 58, 34, 10, 16
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(p: float, o: float) -> tuple[float, float]:
        x = left + plot_w * min(max(p, 0.0), 1.0)
        return x, top + plot_h - plot_h * min(max(o, 0.0), 1.0)

    pct: Fmt = lambda v: f"{v:.0%}"  # noqa: E731
    body = _y_axis(left, top, plot_w, plot_h, 1.0, pct)
    for t in range(5):
        x, _ = xy(t / 4, 0)
        body.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>{pct(t / 4)}</text>')  # fmt: skip
    body.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" {FONT}>predicted</text>')  # fmt: skip
    body.append(f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" {FONT}>observed</text>')  # fmt: skip
    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    body.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#9aa4b2" stroke-dasharray="4 3">'
        "<title>perfectly calibrated</title></line>"
    )
    points = [xy(b["predicted"], b["observed"]) for b in bins]
    if points:
        path = " ".join(f"{'L' if i else 'M'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
        body.append(f'<path d="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    most = max((b["n"] for b in bins), default=1) or 1
    for b, (x, y) in zip(bins, points, strict=True):
        r = 3 + 7 * (b["n"] / most) ** 0.5
        tip = f"predicted {b['predicted']:.1%}, observed {b['observed']:.1%} ({b['n']:,.0f} rows)"
        body.append(
            f'<circle class="bin" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{PALETTE[0]}" '
            f'fill-opacity="0.55"><title>{escape(tip)}</title></circle>'
        )
    return _svg(width, height, body, title)
