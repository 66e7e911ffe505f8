"""`pulsehub report`'s retention section: the Retention page's figures as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from pulsehub.formatting import money, pct

COHORT_ROWS, COHORT_COLUMNS = 8, 9  # the latest cohorts, their first eight quarters


def _p(v: float | None) -> str:
    return pct(v, 1)


def print_retention(console: Console, d: dict[str, Any]) -> None:
    """Print the retention data (reporting.retention_json's shape: the API's own)."""
    lq, tt = d["last_quarter"], d["trailing_12_months"]
    console.print(
        f"[bold]Retention[/] as of {d['as_of']} (renewals late by up to {d['grace_days']} days "
        "count as renewed)"
    )
    kpis = Table(title="retention")
    for col in ("period", "GRR", "NRR", "renewal rate", "logo churn", "revenue churn"):
        kpis.add_column(col, justify="left" if col == "period" else "right", no_wrap=True)
    for name, p in ((lq["label"], lq), ("trailing 12 months", tt)):
        r = p["renewals"]
        kpis.add_row(name, _p(p["grr"]), _p(p["nrr"]), _p(r["rate"]), _p(p["logo_churn"]),
                     _p(p["revenue_churn"]))  # fmt: skip
    console.print(kpis)
    bridge = Table(title="ARR bridge by quarter")
    cols = ("quarter", "starting ARR", "expansion", "contraction", "churn", "new", "GRR", "NRR",
            "renewals on time/late/lost/lapsed", "renewal rate")  # fmt: skip
    for col in cols:
        bridge.add_column(col, justify="left" if col == "quarter" else "right")
    for p in d["quarters"]:
        r = p["renewals"]
        bridge.add_row(
            p["label"], money(p["start_arr"]), money(p["expansion"]), money(p["contraction"]),
            money(p["churn"]), money(p["new_arr"]), _p(p["grr"]), _p(p["nrr"]),
            f"{r['on_time']}/{r['late']}/{r['lost']}/{r['lapsed']}", _p(r["rate"]),
        )  # fmt: skip
    console.print(bridge)
    seg = Table(title="by segment, trailing 12 months, with cost-to-serve")
    seg_cols = ("segment", "starting ARR", "GRR", "NRR", "logo churn", "renewal rate",
            "cost to serve", "per customer", "per $ ARR")  # fmt: skip
    for col in seg_cols:
        seg.add_column(col, justify="left" if col == "segment" else "right")
    for g in d["by"]["segment"]:
        c = g.get("cost") or {}
        per_dollar = c.get("cost_per_arr_dollar")
        seg.add_row(
            g["name"], money(g["start_arr"]), _p(g["grr"]), _p(g["nrr"]), _p(g["logo_churn"]),
            _p(g["renewals"]["rate"]), money(c.get("total_cost")),
            money(c.get("cost_per_customer")),
            "-" if per_dollar is None else f"{per_dollar * 100:.1f}¢",
        )  # fmt: skip
    console.print(seg)
    by_quarter = Table(title="GRR / NRR by segment and quarter")
    labels = [p["label"] for p in d["quarters"]]
    for col in ("segment", *labels):
        by_quarter.add_column(col, justify="left" if col == "segment" else "right", no_wrap=True)
    for g in d["by"]["segment"]:
        cells = [f"{_p(p['grr'])} / {_p(p['nrr'])}" for p in g["quarters"]]
        by_quarter.add_row(g["name"], *cells)
    console.print(by_quarter)
    cohorts = Table(title="cohort revenue retention, quarters after the start quarter (Q+0 = 100%)")
    width = min(COHORT_COLUMNS, max((len(c["revenue_retention"]) for c in d["cohorts"]), default=1))
    for col in ("cohort", "customers", *(f"Q+{k}" for k in range(1, width))):
        cohorts.add_column(col, justify="left" if col == "cohort" else "right", no_wrap=True)
    for c in d["cohorts"][-COHORT_ROWS:]:
        cells = [pct(v) for v in c["revenue_retention"][1:width]]
        cohorts.add_row(c["cohort"], str(c["logos"]), *cells)
    console.print(cohorts)
