"""`python -m bench daywave --accounts N`: how many accounts a new day rewrites in Salesforce,
and what caused each write.

One sandbox world and one database: a sync on day D (the first sync writes everything), then
`--days` times: the world evolves one day and the next sync runs with the default dead-bands.
Counted for each day: the accounts whose Salesforce fields (and the organizations whose
Zendesk fields) that sync really wrote. Before each of those syncs the written state is kept,
and after it every policy (no dead-band, the default, `--wide`) is replayed on the day's
snapshots against that same written state — the same diff and verdicts the planner applies
(sync/writeback.py, sync/deadband.py), nothing written — so the policies are compared on
one world, and each written account is broken down by the fields that caused its write
(a label written with its number counts under the number) and by how far the number moved.
The default policy's replay must match what the sync wrote; the bench says when it does not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from connectors.write_fields import WriteFields
from model.db import upgrade
from model.tables import HealthSnapshot, WrittenState
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import DeadBandSettings
from sandbox import Sandbox
from sync.deadband import HELD, DeadBand, verdicts
from sync.routes import write_targets
from sync.writeback import (
    FIELD_BANDS,
    FieldTarget,
    _diff,
    current_phases,
    decode,
    logical_fields,
    ranked,
    status_reach,
)
from sync.writeback_rows import account_targets, newest_day

DAY = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
CAUSES = {  # logical field -> the cause it is counted under
    "health_score": "score",
    "health_band": "band",
    "renewal_risk": "risk",
    "renewal_risk_level": "risk level",
    "health_trend": "trend",
    "health_reasons": "reasons",
    "renewal_risk_drivers": "drivers",
}
LABEL_OF = {label: num for num, (_, label) in FIELD_BANDS.numeric.items() if label}
Written = dict[tuple[str, str, str], dict[str, str | None]]  # (system, kind, target) -> fields


@dataclass
class Breakdown:
    """One policy's replay of one day: written accounts, by cause and by size of move."""

    accounts: int = 0
    causes: Counter[str] = field(default_factory=Counter)  # an account under each of its causes
    sole: Counter[str] = field(default_factory=Counter)  # accounts with that cause only
    moves: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    texts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, verdict: Mapping[str, str], changes: Mapping[str, tuple[Any, Any]]) -> None:
        causes = set()
        for fld, why in verdict.items():
            if why == HELD or why == "with its number":
                continue
            cause = CAUSES.get(fld, "other")
            causes.add(cause)
            if fld in FIELD_BANDS.texts:
                self.texts[cause][why] += 1
                if len(self.examples[f"{cause}: {why}"]) < 3:
                    old, new = changes[fld]
                    self.examples[f"{cause}: {why}"].append(f"{old!r} -> {new!r}")
            elif fld in FIELD_BANDS.numeric:
                self.moves[cause][_bucket(why, changes[fld])] += 1
        if causes:
            self.accounts += 1
            self.causes.update(causes)
            if len(causes) == 1:
                self.sole.update(causes)


def _bucket(why: str, change: tuple[Any, Any]) -> str:
    """How far a written number moved: absolute points, and relative to the value written."""
    old, new = change
    if not why.startswith("moved"):
        return why
    move = abs(float(new) - float(old))
    points = next(f"<={e:g}" for e in (1, 2, 3, 4, 6, 10, float("inf")) if move <= e)
    rel = move / abs(float(old)) if old else float("inf")
    share = next((f"<={e:.0%}" for e in (0.1, 0.2, 0.3, 0.5, 1.0) if rel <= e), ">100%")
    return f"{points} pts, {share} of written"


def _written_state(session: Session) -> Written:
    out: Written = {}
    for system, kind, target, fld, value in session.execute(
        select(WrittenState.system, WrittenState.target_kind, WrittenState.target_id,
               WrittenState.field, WrittenState.value)
    ):  # fmt: skip
        out.setdefault((system, kind, target), {})[fld] = value
    return out


@dataclass(frozen=True)
class Target:
    """The crm's account field write kind, as the replay needs it (and as `--keep` saves it)."""

    system: str
    entity: str
    fields: WriteFields

    @classmethod
    def of(cls, to: FieldTarget) -> Target:
        return cls(to.system, to.entity, to.fields)


PREVIOUS = "previous default (before issue 19's rules)"
BEFORE_FOLLOW = "default of 803e443 (before explanations followed their number)"
NO_REACH = (PREVIOUS, BEFORE_FOLLOW)  # policies from before the status hysteresis


def replay(
    session: Session,
    to: Target,
    before: Written,
    band: DeadBand,
    previous: bool = False,
    reach: bool = True,
) -> Breakdown:
    """The newest day's account field writes `band` would plan against `before`; `previous`:
    as the planner did before the kept-apart reasons and drivers (only the listed ones);
    `reach`: with the status hysteresis at the cut-offs (`status_reach`)."""
    out = Breakdown()
    day = newest_day(session)
    snaps = {
        s.account_id: s
        for s in session.execute(select(HealthSnapshot).where(HealthSnapshot.as_of == day))
        .scalars()
        .all()
    }
    found = account_targets(session, to.system, 0, 2**62)
    phases = current_phases(session, [a for _, a, _ in found if a in snaps])
    for target, acc, _ in found:
        if acc not in snaps:
            continue
        values = {**logical_fields(snaps[acc]), **phases.get(acc, {})}
        desired = to.fields.render(values)
        stored = before.get((to.system, to.entity, target), {})
        changes = {c.field: (decode(c.old), decode(c.new)) for c in _diff(desired, stored)}
        items, weak = ranked(to.fields.items(values, FIELD_BANDS.texts), snaps[acc], band)
        if previous:
            items, weak = to.fields.items(values, FIELD_BANDS.texts), {}
        near = status_reach(to.fields, snaps[acc], band) if reach else {}
        out.add(verdicts(changes, band, FIELD_BANDS, items, weak, near, desired.keys()), changes)
    return out


def run(
    accounts: int,
    seed: int,
    days: int,
    policies: list[tuple[str, DeadBand]],
    db_dir: Path,
    keep: Path | None = None,
) -> None:
    url = f"sqlite:///{db_dir / 'daywave.db'}"
    upgrade(url)
    default = DeadBandSettings()
    with Sandbox(accounts=accounts, seed=seed, now=DAY) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url, writeback_deadband=default))
        rt.sync(as_of=DAY.date())
        to = Target.of(write_targets(rt.connectors)["account"][0])
        for day in range(1, days + 1):
            sb.advance(1)
            sb.tick(61)  # past the exports' one-minute lag
            with rt.factory() as session:
                before = _written_state(session)
            mark = len(sb.writes)
            report = rt.sync(as_of=DAY.date() + dt.timedelta(days=day))
            kinds = Counter(w["kind"] for w in sb.writes[mark:])
            scored = sum(report.bands.values())
            wrote = {"accounts": kinds["account_fields"], "orgs": kinds["org_fields"],
                     "scored": scored}  # fmt: skip
            if keep is not None:
                _keep(keep / f"day{day}", db_dir / "daywave.db", to, before, wrote)
            with rt.factory() as session:
                _report(day, seed, session, to, before, wrote, policies)
        rt.close()


def _report(
    day: int,
    seed: int,
    session: Session,
    to: Target,
    before: Written,
    wrote: Mapping[str, int],
    policies: list[tuple[str, DeadBand]],
) -> None:
    scored = wrote["scored"]
    print(f"\nday D+{day} (seed {seed}): the sync wrote {wrote['accounts']} of {scored} scored "
          f"accounts ({wrote['accounts'] / scored:.1%}) and {wrote['orgs']} organizations")  # fmt: skip
    default = DeadBand(**DeadBandSettings().model_dump())
    for label, band in policies:
        b = replay(session, to, before, band, label == PREVIOUS, label not in NO_REACH)
        _print(label, b, scored)
        if band == default and b.accounts != wrote["accounts"]:
            print(f"  (the replay of the default writes {b.accounts}: the code changed since)")


def _keep(where: Path, db: Path, to: Target, before: Written, wrote: Mapping[str, int]) -> None:
    """A day's database after its sync and the written state before it, for `--replay`."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, where / "daywave.db")
    state = {
        "target": {"system": to.system, "entity": to.entity, "fields": to.fields.model_dump()},
        "before": [[*key, fields] for key, fields in before.items()],
        "wrote": dict(wrote),
    }
    (where / "state.json").write_text(json.dumps(state))


def replay_kept(kept: Path, policies: list[tuple[str, DeadBand]]) -> None:
    """Replay the policies on days kept by an earlier run (`--keep`): no sandbox, no sync, so
    a write-back rule can be tried in seconds (a change to scoring needs a new run)."""
    for where in sorted(kept.glob("day*"), key=lambda p: int(p.name[3:])):
        state = json.loads((where / "state.json").read_text())
        t = state["target"]
        to = Target(t["system"], t["entity"], WriteFields.model_validate(t["fields"]))
        before = {(a, b, c): f for a, b, c, f in state["before"]}
        engine = create_engine(f"sqlite:///{where / 'daywave.db'}")
        with Session(engine) as session:
            _report(int(where.name[3:]), -1, session, to, before, state["wrote"], policies)
        engine.dispose()


def _print(label: str, b: Breakdown, scored: int) -> None:
    print(f"- {label}: {b.accounts} of {scored} accounts ({b.accounts / scored:.1%})")
    print(f"    by cause (an account under each): {dict(b.causes.most_common())}")
    print(f"    sole cause: {dict(b.sole.most_common())}")
    for cause, moves in sorted(b.moves.items()):
        print(f"    {cause} moves: {dict(sorted(moves.items()))}")
    for cause, whys in sorted(b.texts.items()):
        print(f"    {cause} texts: {dict(whys.most_common())}")
    if EXAMPLES:
        for key, lines in sorted(b.examples.items()):
            for line in lines[:EXAMPLES]:
                print(f"      e.g. {key}: {line}")


EXAMPLES = 0


def main(argv: list[str]) -> None:
    global EXAMPLES
    parser = argparse.ArgumentParser(prog="python -m bench daywave")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=1, help="days synced after day D")
    parser.add_argument("--examples", type=int, default=0, help="texts shown per text cause")
    parser.add_argument("--keep", type=Path, help="keep each day's database here")
    parser.add_argument("--replay", type=Path, help="replay the policies on days kept before")
    parser.add_argument(
        "--wide", default="",
        help="also a wider policy: SCORE,RISK,TREND points (e.g. 3,6,10)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    EXAMPLES = args.examples
    policies = [("no dead-band", DeadBand(score=0, risk=0, trend=0, text=0, risk_share=0,
                                          driver=0, follow=False)),
                ("dead-bands (default)", DeadBand(**DeadBandSettings().model_dump()))]  # fmt: skip
    policies.append((PREVIOUS, DeadBand(score=2, risk=3, risk_share=0, driver=0, follow=False)))
    policies.append((BEFORE_FOLLOW, DeadBand(score=2, risk=3, risk_share=0.2, follow=False)))
    if args.wide:
        score, risk, trend = (float(x) for x in args.wide.split(","))
        wide = DeadBand(**{**DeadBandSettings().model_dump(), "score": score, "risk": risk,
                           "trend": trend})  # fmt: skip
        policies.append((f"dead-bands score {score:g}, risk {risk:g}, trend {trend:g}", wide))
    if args.replay:
        replay_kept(args.replay, policies)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args.accounts, args.seed, args.days, policies, Path(tmp), args.keep)
