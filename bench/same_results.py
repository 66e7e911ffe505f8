"""Do two runs on one database leave the same results? (`bench incremental`'s check that an
incremental run and a `--full-score` run of the same state agree, at any book size.)

A fingerprint of what a run decides, read from the database: the newest day's snapshots per
account (every column a score, a band, a reason or a risk is written from; not when it was
computed nor its inputs digest, which are bookkeeping) and every escalation by its dedup key
(state, severity, title, details, due times; not `updated_at`). Each row is kept as 8 bytes
of hash per column, so a 50,000-account book's fingerprint is a few MiB and `differences`
names the rows and the columns that moved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, func, select

from model.tables import Escalation, HealthSnapshot

SNAPSHOT_COLUMNS = (
    "score", "band", "profile", "coverage", "trend_28d", "sharp_drop", "reasons", "signals",
    "contradictions", "renewal_risk", "risk_level", "risk_drivers", "computed_score",
    "computed_band", "override_id",
)  # fmt: skip
ESCALATION_COLUMNS = (
    "account_id", "rule", "severity", "state", "title", "details", "cooldown_until",
    "review_due_at", "acknowledged_at", "resolved_at",
)  # fmt: skip
SAMPLE = 5  # differing keys named per kind


HASH_BYTES = 8


@dataclass
class Fingerprint:
    as_of: str | None = None
    snapshots: dict[int, bytes] = field(default_factory=dict)  # account id -> column hashes
    escalations: dict[str, bytes] = field(default_factory=dict)  # dedup key -> column hashes


def _digest(values: tuple[Any, ...]) -> bytes:
    """8 bytes of hash per value, in column order."""
    out = bytearray()
    for v in values:
        text = json.dumps(v, sort_keys=True, default=str, separators=(",", ":"))
        out += hashlib.blake2b(text.encode(), digest_size=HASH_BYTES).digest()
    return bytes(out)


def _columns_apart(a: bytes, b: bytes, names: tuple[str, ...]) -> list[str]:
    return [
        name
        for i, name in enumerate(names)
        if a[i * HASH_BYTES : (i + 1) * HASH_BYTES] != b[i * HASH_BYTES : (i + 1) * HASH_BYTES]
    ]


def fingerprint(db_url: str) -> Fingerprint:
    """What the database holds now: the newest day's snapshots and every escalation."""
    engine = create_engine(db_url)
    out = Fingerprint()
    try:
        with engine.connect() as conn:
            as_of = conn.execute(select(func.max(HealthSnapshot.as_of))).scalar()
            out.as_of = None if as_of is None else str(as_of)
            snap = HealthSnapshot.__table__.c
            rows = conn.execute(
                select(snap.account_id, *(snap[c] for c in SNAPSHOT_COLUMNS))
                .where(snap.as_of == as_of)
                .execution_options(yield_per=5000)
            )
            for account_id, *values in rows:
                out.snapshots[account_id] = _digest(tuple(values))
            esc = Escalation.__table__.c
            escalations = conn.execute(
                select(esc.dedup_key, *(esc[c] for c in ESCALATION_COLUMNS)).execution_options(
                    yield_per=5000
                )
            )
            for key, *values in escalations:
                out.escalations[key] = _digest(tuple(values))
    finally:
        engine.dispose()
    return out


def differences(before: Fingerprint, after: Fingerprint) -> dict[str, Any]:
    """How two fingerprints differ: counts, rows per differing column, and a few keys."""

    def compare(a: dict[Any, bytes], b: dict[Any, bytes], names: tuple[str, ...]) -> dict[str, Any]:
        changed = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])
        only_before = sorted(a.keys() - b.keys())
        only_after = sorted(b.keys() - a.keys())
        by_column: dict[str, int] = {}
        for k in changed:
            for name in _columns_apart(a[k], b[k], names):
                by_column[name] = by_column.get(name, 0) + 1
        return {
            "compared": len(a.keys() & b.keys()),
            "differ": len(changed),
            "by_column": by_column,
            "only_before": len(only_before),
            "only_after": len(only_after),
            "sample": [str(k) for k in (changed + only_before + only_after)[:SAMPLE]],
        }

    return {
        "as_of": [before.as_of, after.as_of],
        "snapshots": compare(before.snapshots, after.snapshots, SNAPSHOT_COLUMNS),
        "escalations": compare(before.escalations, after.escalations, ESCALATION_COLUMNS),
    }


def identical(diff: dict[str, Any]) -> bool:
    """True when the two runs left the same day and the same rows."""
    same_day = diff["as_of"][0] == diff["as_of"][1]
    return same_day and all(
        diff[kind][k] == 0
        for kind in ("snapshots", "escalations")
        for k in ("differ", "only_before", "only_after")
    )
