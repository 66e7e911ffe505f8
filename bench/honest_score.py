"""Benchmark: is the score honest on held-out worlds? Seeds 101-110 by default (tuning used 1-5).

For each seed: generate a sandbox world, sync it through the real pipeline into SQLite,
replay weekly snapshots, then judge every account once on its renewal decision (the audit's
leakage-free sample) and print: score AUC, the fitted risk's AUC (cross-fitted by account, so
each account is predicted by a model that never saw it), band churn rates and whether they are
strictly ordered, Brier against the base rate, calibration slope, lead-time shares and every
single signal's AUC. Then the mean and spread over seeds. Beside the fitted risk's AUC, "ceil"
is what the world's own visible drivers, exact, reach on the same judged renewals
(`bench.judged_ceiling`): how much of a seed's figure is the model and how much the draw.

Bands are judged under the cut-offs `scoring.band_fit` fits for lead time, cross-fitted the
same way (each fifth of the accounts banded by cut-offs fitted on the other four fifths'
renewals); "red<50" is the scorecard's fixed cut-off, for comparison. Likewise "high risk" is
the scorecard's fixed `risk.high_at` and "high fit" the threshold `scoring.alert_fit` fits for
lead time, cross-fitted by the same folds of accounts on the cross-fitted probabilities.
When the scorecard budgets the union flag (`bands.fit.flag_false_alarms`), red's cut-off and
high_at are the pair `scoring.flag_fit` fits together, and "red|high" is that flag — red band
or high risk, what production writes back — judged with its false alarms.

Run by hand:  .venv/bin/python -m bench honest_score [--seeds 101-110] [--accounts 400]
              [--keep DIR [--build-only]]  (build the worlds once into DIR, judge them later)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.judged_ceiling import judged_ceiling
from bench.world_history import build_history, world_anchor
from scoring import metrics
from scoring.alert_fit import fit_high_at, judged_risks
from scoring.audit import signal_aucs
from scoring.backtest import Sample, renewal_outcomes, samples_from_database
from scoring.band_fit import fit_bands, fit_leads, judged_scores
from scoring.config import load_scorecard
from scoring.fit import NotEnoughHistory, fit_risk
from scoring.flag_fit import fit_flags, judged_pairs, snapshot_scores
from scoring.lead_time import lead_time_report
from scoring.risk_store import EXCLUDED, FEATURES, training_from_database

BANDS = ("red", "yellow", "green")


def seed_figures(
    accounts: int, seed: int, directory: Path, *, reuse: bool = False
) -> dict[str, Any]:
    """Everything the bench prints for one world."""
    card = load_scorecard()
    horizon, lead = card.risk.horizon_days, card.risk.min_lead_days
    factory = build_history(accounts, seed, directory, reuse=reuse)
    with factory() as session:
        samples, _ = samples_from_database(session, horizon, lead)
        judged = [s for s in samples if s.score is not None]
        labels = [int(s.churned) for s in judged]
        out: dict[str, Any] = {"seed": seed, "judged": len(judged), "churned": sum(labels)}
        out["score_auc"] = metrics.roc_auc([100.0 - (s.score or 0.0) for s in judged], labels)
        out["signals"] = signal_aucs(judged)
        anchor = world_anchor(directory, seed, session)
        out["ceiling"] = judged_ceiling(session, accounts, seed, judged, anchor)
        out["lead_fixed"] = lead_time_report(session, flag=lambda snap: snap[2] == "red")
        ts = training_from_database(session, horizon)
        try:
            fitted = fit_risk(ts, FEATURES, horizon_days=horizon)
        except NotEnoughHistory as exc:
            fitted, out["fitted"] = None, str(exc)
        flags = {} if fitted is None else _cross_fitted_flags(session, card, ts.keys, fitted.oof)
        cuts = _cross_fitted_bands(session, card, flags)
        out["cutoffs"] = sorted(cuts.values())
        out["bands"] = _bands(judged, cuts)
        rates = [out["bands"][b] for b in BANDS]
        out["bands_ordered"] = None not in rates and rates[0] > rates[1] > rates[2]
        out["lead_score"] = _red_lead(session, card, cuts)
        if fitted is None:
            return out
        oof = dict(zip(ts.keys, fitted.oof, strict=True))
        probs = [oof.get((s.account_id, s.as_of)) for s in judged]
        pairs = [(p, y) for p, y in zip(probs, labels, strict=True) if p is not None]
        ps, ys = [p for p, _ in pairs], [y for _, y in pairs]
        base = sum(ys) / len(ys)
        line = metrics.calibration_line(ps, ys)
        out["fitted"] = {
            "auc": metrics.roc_auc(ps, ys),
            "brier": metrics.brier(ps, ys),
            "base_brier": base * (1 - base),
            "slope": None if line is None else line[0],
        }
        high = card.risk.high_at
        out["lead_risk"] = lead_time_report(
            session, flag=lambda snap: oof.get((snap[0], snap[1]), 0.0) >= high
        )
        highs = _cross_fitted_high_at(session, card, ts.keys, fitted.oof, flags)
        out["high_cutoffs"] = [highs[k] for k in range(FOLDS)]
        out["lead_risk_fitted"] = lead_time_report(
            session,
            flag=lambda snap: oof.get((snap[0], snap[1]), 0.0) >= highs[snap[0] % FOLDS],
        )
        scores = snapshot_scores(session)

        def red_or_high(snap: Any) -> bool:  # the flag production writes back, cross-fitted
            k = snap[0] % FOLDS
            red = scores.get((snap[0], snap[1]), 100.0) < cuts[k][0]
            return red or oof.get((snap[0], snap[1]), 0.0) >= highs[k]

        out["lead_flag"] = lead_time_report(session, flag=red_or_high)
    return out


FOLDS = 5


def _cross_fitted_flags(
    session: Any, card: Any, keys: Sequence[Any], oof: Sequence[float]
) -> dict[int, tuple[float, float]]:
    """(red_below, high_at) for each fold of accounts, fitted together (scoring.flag_fit) on the
    other folds' renewals only; folds with too few renewals (or a scorecard fitting red and
    high separately) are left out."""
    config = card.bands.fit
    if config is None or config.flag_false_alarms is None:
        return {}
    outcomes = renewal_outcomes(session)
    scores = snapshot_scores(session)
    judged = [scores.get(k) for k in keys]
    pairs = judged_pairs(keys, oof, judged, outcomes, config.lead_days)
    out: dict[int, tuple[float, float]] = {}
    for k in range(FOLDS):
        fitted = fit_flags([j for j in pairs if j[0] % FOLDS != k], config)
        if fitted is not None:
            out[k] = (fitted["red_below"], fitted["high_at"])
    return out


def _cross_fitted_bands(
    session: Any, card: Any, flags: dict[int, tuple[float, float]]
) -> dict[int, tuple[float, float]]:
    """Band cut-offs for each fold of accounts, fitted (scoring.band_fit, red from `flags` where
    fitted jointly) on the other folds' renewals only, so no account is banded by cut-offs its
    own outcome helped choose."""
    config = card.bands.fit
    judged = judged_scores(session, fit_leads(config)) if config is not None else []
    fixed = (card.bands.red_below, card.bands.green_at)
    out: dict[int, tuple[float, float]] = {}
    for k in range(FOLDS):
        red = flags[k][0] if k in flags else None
        rest = [j for j in judged if j[0] % FOLDS != k]
        fitted = fit_bands(rest, config, red) if judged else None
        out[k] = fixed if fitted is None else (fitted["red_below"], fitted["green_at"])
    return out


def _cross_fitted_high_at(
    session: Any,
    card: Any,
    keys: Sequence[Any],
    oof: Sequence[float],
    flags: dict[int, tuple[float, float]],
) -> dict[int, float]:
    """The high-risk threshold for each fold of accounts: from `flags` where fitted jointly,
    else fitted alone (scoring.alert_fit) on the other folds' renewals only; the scorecard's
    fixed `risk.high_at` where too few."""
    config = card.bands.fit
    fixed = card.risk.high_at
    if config is None:
        return dict.fromkeys(range(FOLDS), fixed)
    judged = judged_risks(keys, oof, renewal_outcomes(session), config.lead_days)
    out: dict[int, float] = {}
    for k in range(FOLDS):
        fitted = fit_high_at([j for j in judged if j[0] % FOLDS != k], config)
        out[k] = flags[k][1] if k in flags else fixed if fitted is None else fitted["high_at"]
    return out


def _band(score: float | None, cut: tuple[float, float]) -> str:
    if score is None:
        return "grey"
    return "red" if score < cut[0] else "green" if score >= cut[1] else "yellow"


def _bands(
    judged: Sequence[Sample], cuts: dict[int, tuple[float, float]]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for band in BANDS:
        group = [s for s in judged if _band(s.score, cuts[s.account_id % FOLDS]) == band]
        out[band] = sum(s.churned for s in group) / len(group) if group else None
    return out


def _red_lead(session: Any, card: Any, cuts: dict[int, tuple[float, float]]) -> dict[str, Any]:
    """Lost renewals red 30/60/90 days ahead and won ones red then, under cross-fitted cuts."""
    out: dict[str, Any] = {}
    judged = judged_scores(session, (30, 60, 90))
    for lead in (30, 60, 90):
        rows = [(s < cuts[a % FOLDS][0], lost) for a, d, s, lost in judged if d == lead]
        lost = [red for red, is_lost in rows if is_lost]
        won = [red for red, is_lost in rows if not is_lost]
        out[f"{lead}d"] = {
            "detected": sum(lost) / len(lost) if lost else None,
            "false_alarms": sum(won) / len(won) if won else None,
        }
    return out


def _spread(values: Sequence[float | None]) -> str:
    xs = [v for v in values if v is not None]
    if not xs:
        return "-"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.3f} ± {sd:.3f} (min {min(xs):.3f}, max {max(xs):.3f})"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def report(results: list[dict[str, Any]]) -> None:
    """Per-seed lines, then mean ± sd over seeds."""
    print(f"{'seed':>5}{'judged':>7}{'lost':>5}{'score':>7}{'risk':>7}{'ceil':>7}  red/yellow/green churn  "
          f"ordered  Brier (base)   slope  red≥60d  risk≥60d (false alarms)  fitted high≥60d"
          f"  red|high≥60d")  # fmt: skip
    for r in results:
        fit = r["fitted"] if isinstance(r["fitted"], dict) else {}
        bands = "/".join(_pct(r["bands"][b]) for b in BANDS)
        red, risk = r["lead_score"]["60d"], r.get("lead_risk", {}).get("60d", {})
        fit60 = r.get("lead_risk_fitted", {}).get("60d", {})
        flag60 = r.get("lead_flag", {}).get("60d", {})
        print(
            f"{r['seed']:>5}{r['judged']:>7}{r['churned']:>5}{_f(r['score_auc']):>7}"
            f"{_f(fit.get('auc')):>7}{_f(_ceiling(r, 'visible')):>7}  {bands:<23}{'yes' if r['bands_ordered'] else 'NO':>7}  "
            f"{_f(fit.get('brier'))} ({_f(fit.get('base_brier'))})  {_f(fit.get('slope'))}  "
            f"{_pct(red['detected']):>6}  {_pct(risk.get('detected')):>6} ({_pct(risk.get('false_alarms'))})"
            f"  {_pct(fit60.get('detected')):>6} ({_pct(fit60.get('false_alarms'))})"
            f"  {_pct(flag60.get('detected')):>6} ({_pct(flag60.get('false_alarms'))})"
        )
    fits = [f for _, f in _fitted(results)]
    print(f"\nscore AUC            {_spread([r['score_auc'] for r in results])}")
    print(f"fitted-risk AUC      {_spread([f['auc'] for f in fits])}")
    print(f"visible ceiling      {_spread([_ceiling(r, 'visible') for r in results])}")
    print(f"every-driver ceiling {_spread([_ceiling(r, 'all') for r in results])}")
    gaps = [
        f["auc"] - c
        for r, f in _fitted(results)
        if (c := _ceiling(r, "visible")) is not None and f["auc"] is not None
    ]
    print(f"risk minus visible   {_spread(gaps)}")
    left_out = sum(r.get("ceiling", {}).get("unmatched", 0) for r in results)
    print(
        f"  (ceilings leave out {left_out} judged renewals the regenerated worlds did not reproduce)"
    )
    for r in results:
        if "error" in r.get("ceiling", {}):
            print(f"  seed {r['seed']}: no ceiling: {r['ceiling']['error']}")
    gain = [1 - f["brier"] / f["base_brier"] for f in fits if f["base_brier"]]
    print(f"Brier below base     {_spread(gain)}")
    print(f"calibration slope    {_spread([f['slope'] for f in fits])}")
    print(
        f"bands strictly ordered on {sum(bool(r['bands_ordered']) for r in results)} of {len(results)} seeds"
    )
    cuts = [c for r in results for c in r.get("cutoffs", [])]
    if cuts:
        print(f"fitted red cut-off     {_spread([c[0] for c in cuts])}")
        print(f"fitted green cut-off   {_spread([c[1] for c in cuts])}")
    highs = [h for r in results for h in r.get("high_cutoffs", [])]
    if highs:
        print(f"fitted high_at         {_spread(highs)}")
    for key, label in (
        ("lead_fixed", "red<50"), ("lead_score", "red"),
        ("lead_risk", "high risk"), ("lead_risk_fitted", "high fit"),
        ("lead_flag", "red|high"),
    ):  # fmt: skip
        for lead in ("30d", "60d", "90d"):
            rows = [r[key][lead] for r in results if key in r]
            print(f"churners {label:<9} ≥{lead:<4}  {_spread([x['detected'] for x in rows])}"
                  f"   false alarms {_spread([x['false_alarms'] for x in rows])}")  # fmt: skip
    names = sorted({k for r in results for k in r["signals"]})
    print("\nsingle-signal AUC (oriented; mean and max over seeds)" + " — * = not a model feature")
    for name in names:
        vals = [r["signals"][name] for r in results if name in r["signals"]]
        flag = "*" if name in EXCLUDED else " "
        print(f"  {flag}{name:<28} mean {statistics.mean(vals):.3f}  max {max(vals):.3f}")


def _ceiling(result: dict[str, Any], name: str) -> float | None:
    """A seed's judged-sample ceiling (`bench.judged_ceiling`); None in a save from before it."""
    return result.get("ceiling", {}).get(name)


def _fitted(results: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(r, r["fitted"]) for r in results if isinstance(r["fitted"], dict)]


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def parse_seeds(text: str) -> list[int]:
    """`1-5` (a range) or `1,3,7` (a list)."""
    if "-" in text:
        lo, hi = text.split("-", 1)
        return list(range(int(lo), int(hi) + 1))
    return [int(x) for x in text.split(",")]


def tuning_args(bench: str, argv: list[str]) -> tuple[argparse.Namespace, list[int]]:
    """What a bench that tunes or compares on the tuning worlds takes: `--seeds` (1-5; a seed
    over 100 is held out and refused as a usage error), `--accounts` (1,000) and `--keep DIR`
    (build the worlds there and reuse finished ones)."""
    parser = argparse.ArgumentParser(prog=f"python -m bench {bench}")
    parser.add_argument("--seeds", default="1-5", help="tuning seeds only (over 100: held out)")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build the worlds here and reuse finished ones")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if any(s > 100 for s in seeds):
        parser.error("--seeds: tune and compare on seeds 1-100 only; seeds over 100 are held out")
    return args, seeds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench honest_score")
    parser.add_argument("--seeds", default="101-110", help="held-out seeds (tuning used 1-5)")
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--save", type=Path, help="append each seed's figures here as JSON lines")
    parser.add_argument("--report", type=Path, help="only print the report of a --save file")
    parser.add_argument(
        "--keep", type=Path, help="build the worlds' databases here and reuse finished ones"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="with --keep: build the worlds, print nothing"
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        report([json.loads(line) for line in args.report.read_text().splitlines() if line])
        return
    if args.accounts > 1000:
        parser.error("--accounts: keep worlds at 1,000 accounts or fewer")
    if args.build_only and args.keep is None:
        parser.error("--build-only needs --keep DIR")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        _run(args, args.keep)
        return
    with tempfile.TemporaryDirectory(prefix="pulsehub-honest-") as tmp:
        _run(args, Path(tmp))


def _run(args: argparse.Namespace, directory: Path) -> None:
    """Build (or, with --keep, reuse) each seed's world; unless --build-only, judge it."""
    results = []
    for seed in parse_seeds(args.seeds):
        started = time.perf_counter()
        if args.build_only:  # no figure is computed: the worlds are judged by a later run
            build_history(args.accounts, seed, directory, reuse=True)
            print(f"seed {seed} built: {time.perf_counter() - started:.0f} s", flush=True)
            continue
        results.append(seed_figures(args.accounts, seed, directory, reuse=args.keep is not None))
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
        if args.save is not None:  # a long run's finished seeds survive an interruption
            with args.save.open("a") as fh:
                fh.write(json.dumps(results[-1], default=str) + "\n")
    if results:
        report(results)
