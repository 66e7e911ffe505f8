"""Render an audit report (the dict from `scoring.audit`) as a plain-text table."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v * 100:.1f}%" if pct else f"{v:.3f}"
    return str(v)


def render_report(report: dict[str, Any]) -> str:
    lines = [f"pulsehub score audit — {report.get('source', '?')}"]
    windows = report.get("windows")
    if windows:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in windows.items()))
    ci = report.get("roc_auc_95ci")
    lines += [
        "",
        f"accounts judged    {report['samples']} ({report['scored']} scored, {report['churned']} churned, "
        f"base rate {_fmt(report['base_rate'], True)})",
        f"ROC-AUC            {_fmt(report['roc_auc'])}"
        + (f"  (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""),
        f"PR-AUC             {_fmt(report['pr_auc'])}",
        f"top-decile lift    {_fmt(report['top_decile_lift'])}",
    ]
    for k, v in report["precision_at_k"].items():
        lines.append(f"precision@{k:<8} {_fmt(v, True)}")
    lines += [
        "",
        f"{'band':<18}{'accounts':>9}{'churned':>9}{'churn rate':>12}{'ARR':>14}{'churned ARR':>14}",
    ]
    for band, b in report["bands"].items():
        lines.append(
            f"{band:<18}{b['accounts']:>9}{b['churned']:>9}{_fmt(b['churn_rate'], True):>12}"
            f"{b['arr']:>14,.0f}{b['churned_arr']:>14,.0f}"
        )
    ordered = report.get("bands_ordered")
    lines.append(
        f"bands ordered (red > yellow > green): {'yes' if ordered else 'NO' if ordered is False else '-'}"
    )
    cal = report.get("calibration", {})
    if cal:
        lines += ["", "renewal-risk calibration (cross-fitted by account)"]
        for key in (
            "selected",
            "brier",
            "logistic_brier",
            "isotonic_brier",
            "base_rate_brier",
            "stored_risk_brier",
        ):
            if key in cal:
                lines.append(f"  {key:<20}{_fmt(cal[key])}")
        if cal.get("learned"):
            ln = cal["learned"]
            lines.append(f"  learned model       Brier {_fmt(ln['brier'])}, ROC-AUC {_fmt(ln['roc_auc'])}, "
                         f"beats the scorecard: {'yes' if ln['beats_scorecard'] else 'no'}")  # fmt: skip
        if cal.get("reliability"):
            lines.append(f"  {'bin':<10}{'n':>6}{'predicted':>11}{'observed':>10}")
            for row in cal["reliability"]:
                lines.append(
                    f"  {row['bin']:<10}{row['n']:>6}{row['predicted']:>11.3f}{row['observed']:>10.3f}"
                )
    fitted = report.get("fitted_risk") or {}
    if "cv_auc" in fitted:
        lines += [
            "",
            f"fitted renewal risk (`pulsehub score fit`), cross-validated by account: "
            f"AUC {_fmt(fitted['cv_auc'])}, Brier {_fmt(fitted['cv_brier'])} "
            f"(base rate {_fmt(fitted['base_rate_brier'])}), calibration slope "
            f"{_fmt(fitted['calibration_slope'])}, {fitted['outcomes']} renewals",
        ]
    elif fitted:
        lines += ["", f"fitted renewal risk: {fitted['not_fitted']}"]
    aucs = report.get("signal_aucs") or {}
    if aucs:
        top = sorted(aucs.items(), key=lambda kv: -kv[1])[:5]
        lines.append(
            "strongest single signals (AUC alone): " + ", ".join(f"{k} {v:.2f}" for k, v in top)
        )
    drift = report.get("drift") or {}
    if drift.get("available"):
        shifted = ", ".join(drift["shifted"]) or "none"
        lines.append(
            f"drift (PSI {drift['current']} vs {drift['reference']}): score {_fmt(drift['score'])}; "
            f"signals above 0.25: {shifted}"
        )
    lines += _weekly_drift(report.get("weekly_drift") or {})
    lines += _overrides(report.get("overrides") or {})
    by_days = report.get("lead_time_by_days") or {}
    if by_days:
        lines += [
            "",
            f"{'flagged red/high':<18}{'lost':>6}{'detected':>10}{'won':>6}{'false alarms':>14}",
        ]
        for lead_key, row in by_days.items():
            lines.append(
                f"{lead_key + ' ahead':<18}{row['lost_renewals']:>6}{_fmt(row['detected'], True):>10}"
                f"{row['won_renewals']:>6}{_fmt(row['false_alarms'], True):>14}"
            )
    lead = report.get("lead_time", {})
    if lead.get("available"):
        lines += [
            "",
            f"lead time: detection rate {_fmt(lead['detection_rate'], True)} ({lead['counts_as_detected']}), "
            f"median lead {_fmt(lead['median_lead_days'])} days, "
            f"false alarms among retained {_fmt(lead['false_alarm_rate'], True)}",
        ]
    return "\n".join(lines)


def _weekly_drift(drift: dict[str, Any]) -> list[str]:
    if not drift.get("available"):
        return []
    lines = ["", f"{'week ending':<14}{'accounts':>9}{'score PSI':>11}  most moved signal"]
    for w in drift["weeks"]:
        top = w.get("largest_signal") or {}
        moved = f"{top['name']} {top['psi']:.3f}" if top else "-"
        lines.append(f"{w['current']:<14}{w['accounts']:>9}{_fmt(w['score']):>11}  {moved}")
    return lines


def _overrides(report: dict[str, Any]) -> list[str]:
    if not report:
        return []
    lines = ["", f"CSM overrides: {report['overrides']} on record, {report['active_now']} in force"]
    weekly = [w for w in report.get("weekly", []) if w["accounts"]]
    if weekly:
        lines.append(
            "  override rate by week: "
            + ", ".join(f"{w['day']} {_fmt(w['override_rate'], True)}" for w in weekly)
        )
    outcomes = report.get("outcomes") or {}
    for way, t in (outcomes.get("by_direction") or {}).items():
        lines.append(
            f"  {way:<10} {t['overrides']:>4} set, {t['judged']:>4} judged on a renewal, "
            f"lost {_fmt(t['lost_rate'], True)}"
        )
    if outcomes.get("all_renewals"):
        a = outcomes["all_renewals"]
        lines.append(
            f"  every renewal decided since {a['since']}: lost {_fmt(a['lost_rate'], True)}"
        )
    if outcomes.get("csm_right_share") is not None:
        lines.append(
            f"  the CSM was right {outcomes['csm_right']} times, the score "
            f"{outcomes['score_right']} ({_fmt(outcomes['csm_right_share'], True)} for the CSM)"
        )
    return lines


def render_table_report(report: dict[str, Any]) -> str:
    """A table audit (`scoring.table_audit`) as plain text."""
    lines = [
        f"pulsehub score audit — {report['source']}",
        f"rows {report['rows']}, churned {report['churned']} "
        f"(base rate {_fmt(report['base_rate'], True)})",
    ]
    for title, key in (
        ("score", "score"),
        ("fitted renewal risk (5-fold CV by account)", "fitted_risk"),
    ):
        part = report.get(key)
        if not part:
            continue
        ci = part.get("roc_auc_95ci")
        lines += [
            "",
            title,
            f"  ROC-AUC            {_fmt(part['roc_auc'])}"
            + (f"  (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""),
            f"  PR-AUC             {_fmt(part['pr_auc'])}",
            f"  top-decile lift    {_fmt(part['top_decile_lift'])}",
        ]
        if key == "fitted_risk":
            lines += [
                f"  baseline logistic  ROC-AUC {_fmt(part['baseline_logistic_auc'])} (same folds)",
                f"  Brier              {_fmt(part['brier'])} (base rate {_fmt(part['base_rate_brier'])})",
                f"  calibration        slope {_fmt(part['calibration_slope'])}, "
                f"intercept {_fmt(part['calibration_intercept'])}",
                f"  {'bin':<10}{'n':>6}{'predicted':>11}{'observed':>10}",
            ]
            for row in part["reliability"]:
                lines.append(
                    f"  {row['bin']:<10}{row['n']:>6}{row['predicted']:>11.3f}{row['observed']:>10.3f}"
                )
            for seg, row in part["per_segment"].items():
                lines.append(
                    f"  segment {seg:<20} n={row['n']:<6} predicted {_fmt(row['predicted'], True)}"
                    f", observed {_fmt(row['observed'], True)}"
                )
    lead = report.get("lead_time", {})
    if lead.get("available"):
        shares = ", ".join(f"{k} {_fmt(v, True)}" for k, v in lead.items() if k.endswith("d"))
        lines += [
            "",
            f"churners flagged ahead: {shares}; false alarms {_fmt(lead['false_alarms'], True)}",
        ]
    return "\n".join(lines)
