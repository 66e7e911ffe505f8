"""Benchmark: fit the scorecard's measure weights on tuning worlds, judged leave-one-world-out.

For each tuning seed: sync a world (or reuse one built by `honest_score --keep`), take every
account's judged renewal (the audit's leakage-free sample: the last snapshot 30-180 days
before the decision) and its stored raw signals. Then, for each seed in turn, fit the weights
(`scoring.weight_fit`) on the *other* seeds' renewals and rescore this seed's judged snapshots
under the default scorecard and under the fitted weights — the AUC a new book would see.
Last, the weights fitted on every seed together: the proposal for the default scorecard.

The default scorecard's measure weights and renewal-profile group weights were set from this
command's last block on seeds 1-5 (never on the held-out seeds 101-110).

Run by hand:  .venv/bin/python -m bench scorecard_weights [--seeds 1-5] [--accounts 1000]
              [--keep DIR]   (reuse worlds built there, under any scorecard: raw signals only)
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.honest_score import tuning_args
from bench.world_history import build_history
from scoring import metrics
from scoring.backtest import samples_from_database
from scoring.config import Linear, Scorecard, load_scorecard
from scoring.health import score_health
from scoring.signals import AccountSignals
from scoring.weight_fit import fit_measure_weights, fit_thresholds, with_fitted_weights

Row = tuple[int, Any, int, dict[str, Any]]  # account, judged day, lost?, stored signals
_FIELDS = {f.name for f in dataclasses.fields(AccountSignals)} - {"account_id", "as_of"}


def judged_rows(accounts: int, seed: int, directory: Path, reuse: bool) -> list[Row]:
    card = load_scorecard()
    factory = build_history(accounts, seed, directory, reuse=reuse, any_scorecard=reuse)
    with factory() as session:
        samples, _ = samples_from_database(session, card.risk.horizon_days, card.risk.min_lead_days)
    return [
        (s.account_id, s.as_of, int(s.churned), s.signals)
        for s in samples
        if s.as_of is not None and s.signals
    ]


def rescore(card: Scorecard, rows: Sequence[Row]) -> tuple[float | None, Counter[str]]:
    """The score's AUC on these judged snapshots under `card` (scored from their stored signals),
    and the profiles they were scored under."""
    scores, labels, profiles = [], [], Counter[str]()
    for aid, day, lost, signals in rows:
        kept = {k: v for k, v in signals.items() if k in _FIELDS and k != "percentiles"}
        result = score_health(AccountSignals(account_id=aid, as_of=day, **kept), card, [])
        profiles[result.profile] += 1
        if result.score is not None:
            scores.append(100.0 - result.score)
            labels.append(lost)
    return metrics.roc_auc(scores, labels), profiles


def fitted_card(
    card: Scorecard, rows: Sequence[Row], profile: str, thresholds: bool = True
) -> tuple[Scorecard, dict[str, float]]:
    """Thresholds (optionally) then weights fitted on `rows`, written into `card`."""
    signals = [r[3] for r in rows]
    if thresholds:
        card = fit_thresholds(card, signals)
    shares = fit_measure_weights(card, signals, [r[2] for r in rows])
    return with_fitted_weights(card, shares, profile), shares


def main(argv: list[str]) -> None:
    args, seeds = tuning_args("scorecard_weights", argv)
    card = load_scorecard()
    with tempfile.TemporaryDirectory(prefix="pulsehub-weights-") as tmp:
        directory = args.keep or Path(tmp)
        data = {s: judged_rows(args.accounts, s, directory, args.keep is not None) for s in seeds}
    _, profiles = rescore(card, [r for rows in data.values() for r in rows])
    profile = profiles.most_common(1)[0][0]
    print(f"judged renewals scored under profile {dict(profiles)}: fitting {profile!r}\n")
    print(f"{'seed':>5}{'judged':>8}{'lost':>6}{'scorecard':>10}{'weights':>9}{'+thresholds':>12}"
          "  (fitted on the other seeds)")  # fmt: skip
    aucs: list[list[float | None]] = [[], [], []]
    for seed in seeds:
        others = [r for s in seeds if s != seed for r in data[s]]
        cards = (card, fitted_card(card, others, profile, False)[0],
                 fitted_card(card, others, profile)[0])  # fmt: skip
        row = [rescore(c, data[seed])[0] for c in cards]
        for acc, auc in zip(aucs, row, strict=True):
            acc.append(auc)
        lost = sum(r[2] for r in data[seed])
        print(
            f"{seed:>5}{len(data[seed]):>8}{lost:>6}{_f(row[0]):>10}{_f(row[1]):>9}{_f(row[2]):>12}"
        )
    means = [_f(_mean(a)) for a in aucs]
    print(f"{'mean':>5}{'':>14}{means[0]:>10}{means[1]:>9}{means[2]:>12}\n")
    every = [r for rows in data.values() for r in rows]
    fitted, shares = fitted_card(card, every, profile)
    _print_shares(fitted, shares, profile)


def _print_shares(card: Scorecard, shares: Mapping[str, float], profile: str) -> None:
    print(f"fitted on every seed together (shares of the {profile!r} score, thresholds):")
    groups: dict[str, float] = {}
    for name, m in card.measures.items():
        share = shares.get(name, 0.0)
        groups[m.group] = groups.get(m.group, 0.0) + share
        n = m.normalization
        span = f"poor {n.poor:g}, good {n.good:g}" if isinstance(n, Linear) else n.kind
        print(f"  {m.group:<13}{name:<26}{share:>7.3f}   {span}")
    print("group weights: " + ", ".join(f"{g}: {w:.3f}" for g, w in groups.items()))


def _mean(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.mean(vals) if vals else None


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
