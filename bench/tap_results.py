"""The taps benchmark's measurements: one tool's result on one system, and the tables that
compare a Singer tap with pulsehub."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SALESFORCE_STREAMS = {"Account": "accounts", "Opportunity": "opportunities", "Contact": "contacts"}


@dataclass
class Result:
    """What one tool (a Singer tap or pulsehub) pulled from one system, and what it cost."""

    tool: str
    system: str
    records: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    idle: float = 0.0
    requests: int = 0
    discovery_requests: int = 0
    slept: float | None = 0.0  # the tool's own time.sleep calls, measured (None: unknown)

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def rate(self, active: bool = False) -> float:
        spent = self.seconds - (self.idle if active else 0.0)
        return self.total / spent if spent > 0 else 0.0

    def rate_awake(self) -> float | None:
        """Records per second of the time not spent in the tool's own sleep calls."""
        if self.slept is None:
            return None
        spent = self.seconds - self.slept
        return self.total / spent if spent > 0 else 0.0


def table(pairs: list[tuple[Result, Result]]) -> str:
    """The markdown table comparing each tap with pulsehub on the same system."""
    head = (
        "| system | tool | records | seconds | records/s | records/s active | records/s "
        "awake | requests (discovery) | pulsehub x throughput | tap requests / pulsehub's |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    for ours, tap in pairs:
        for r in (tap, ours):
            ratio = speed = ""
            if r is ours:
                speed = (
                    f"{ours.rate() / tap.rate():.1f}x ({ours.rate() / tap.rate(True):.1f}x active"
                )
                awake_ours, awake_tap = ours.rate_awake(), tap.rate_awake()
                if awake_ours and awake_tap:
                    speed += f", {awake_ours / awake_tap:.1f}x awake"
                speed += ")"
                ratio = f"{tap.requests / max(1, ours.requests):.2f}"
            awake = r.rate_awake()
            rows.append(
                f"| {r.system} | {r.tool} | {r.total:,} | {r.seconds:.2f} | {r.rate():,.0f} | "
                f"{r.rate(True):,.0f} | {'n/a' if awake is None else f'{awake:,.0f}'} | "
                f"{r.requests} ({r.discovery_requests}) | {speed} | {ratio} |"
            )
    return "\n".join(rows)


def per_stream(pairs: list[tuple[Result, Result]]) -> str:
    """Records per stream, the tap's beside pulsehub's."""
    lines = []
    for ours, tap in pairs:
        for name, theirs in sorted(tap.records.items()):
            mine = ours.records.get(SALESFORCE_STREAMS.get(name, name), 0)
            lines.append(f"  {tap.system}.{name}: tap {theirs:,} records, pulsehub {mine:,}")
    return "\n".join(lines)
