"""Turn a raw measure value into 0..1 (1 = healthy): linear, tiers, or percentile among peers."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

from scoring.config import Linear, Measure, Percentile, Scorecard, Tiers
from scoring.signals import AccountSignals


def normalize(measure: Measure, value: float, percentile: float | None = None) -> float:
    """The 0..1 score of `value`; percentile measures need the value's peer percentile (0..100)."""
    n = measure.normalization
    if isinstance(n, Linear):
        return _clamp((value - n.poor) / (n.good - n.poor))
    if isinstance(n, Tiers):
        i = bisect.bisect_right([t.at for t in n.tiers], value) - 1
        return n.tiers[max(i, 0)].score
    if percentile is None:
        raise ValueError("a percentile measure needs the value's percentile among its peers")
    pct = percentile if measure.direction == "higher_is_better" else 100.0 - percentile
    return _clamp((pct - n.poor) / (n.good - n.poor))


def threshold(measure: Measure) -> float | None:
    """The value at which the measure counts as fully healthy (for explanations)."""
    n = measure.normalization
    if isinstance(n, Linear):
        return n.good
    if isinstance(n, Tiers):
        best = max(t.score for t in n.tiers)
        tiers = n.tiers if measure.direction == "higher_is_better" else reversed(n.tiers)
        return next(t.at for t in tiers if t.score == best)
    return None


def _clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def attach_percentiles(signals: Iterable[AccountSignals], scorecard: Scorecard) -> None:
    """Fill `signals.percentiles` for the scorecard's percentile measures, ranked among peers."""
    ranked = {
        name: m.normalization
        for name, m in scorecard.measures.items()
        if isinstance(m.normalization, Percentile)
    }
    if not ranked:
        return
    signals = list(signals)
    for name, norm in ranked.items():
        peers: dict[str | None, list[float]] = defaultdict(list)
        for s in signals:
            v = s.value(name)
            if v is not None:
                peers[_peer_key(s, norm)].append(v)
        for values in peers.values():
            values.sort()
        for s in signals:
            v = s.value(name)
            if v is not None:
                s.percentiles[name] = percentile_rank(peers[_peer_key(s, norm)], v)


def _peer_key(s: AccountSignals, norm: Percentile) -> str | None:
    return s.segment if norm.within == "segment" else None


def percentile_rank(sorted_values: list[float], value: float) -> float:
    """Mid-rank percentile (0..100) of `value` among `sorted_values`; ties share a rank."""
    if not sorted_values:
        return 50.0
    below = bisect.bisect_left(sorted_values, value)
    equal = bisect.bisect_right(sorted_values, value) - below
    return 100.0 * (below + 0.5 * equal) / len(sorted_values)
