"""The voice-of-the-customer section of `pulsehub report`: the /voice page's figures as tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pulsehub.formatting import money, num, pct
from reporting.voice import VoiceView


def print_voice(console: Console, v: VoiceView) -> None:
    monthly = Table(title="voice of the customer by month (NPS, CSAT, CES)")
    for col in ("month", "NPS", "promoters", "passives", "detractors", "CSAT", "ratings",
                "CES (1-7)", "CES easy", "accounts responding"):  # fmt: skip
        monthly.add_column(col, justify="left" if col == "month" else "right")
    for m in v.monthly:
        monthly.add_row(
            m["month"], num(m["nps"], 0), str(m["promoters"]), str(m["passives"]),
            str(m["detractors"]), pct(m["csat"]), str(m["csat_responses"]), num(m["ces"], 1),
            pct(m["ces_easy"]), f"{m['accounts_responding']} ({pct(m['coverage'])})",
        )  # fmt: skip
    console.print(monthly)
    segments = Table(title=f"by segment, last {v.period_days} days")
    for col in ("segment", "NPS", "CSAT", "CES", "accounts"):
        segments.add_column(col, justify="left" if col == "segment" else "right")
    for seg, r in v.by_segment.items():
        segments.add_row(seg, num(r["nps"], 0), pct(r["csat"]), num(r["ces"], 1),
                         str(r["accounts_responding"]))  # fmt: skip
    console.print(segments)
    themes = Table(
        title=f"feedback themes, last {v.period_days} days against the {v.period_days} before"
    )
    for col in ("theme", "mentions", "trend", "accounts", "affected ARR", "impact", "was",
                "owner", "status"):  # fmt: skip
        themes.add_column(col, justify="left" if col in ("theme", "owner", "status") else "right")
    for t in v.themes:
        status = (
            "task opened"
            if t["task_opened"]
            else "deteriorating"
            if t["deteriorating"]
            else "steady"
        )
        themes.add_row(
            t["label"], str(t["volume"]), f"{t['trend']:+d}", str(t["accounts"]),
            money(t["affected_arr"]), money(t["impact"]), money(t["impact_before"]), t["owner"],
            f"[red]{status}[/]" if status != "steady" else status,
        )  # fmt: skip
    themes.caption = (
        "impact: sum over distinct accounts of ARR x their strongest negativity on the theme"
    )
    console.print(themes)
    for s in v.suggested:
        console.print(f"suggested theme: {', '.join(s.terms)} ({s.size} texts), e.g. {s.example!r}")
