"""Planner statistics after a bulk load (PostgreSQL).

PostgreSQL plans on statistics that only ANALYZE gathers; autovacuum runs it in the
background once a table has changed by a tenth, but a sync's stages follow each other within
seconds of a bulk load, and a server may run with autovacuum off. A 50,000-account book
showed what a stage then pays: the write-back plan right after the first sync's push looked
up what was last written on 156,000 tickets with the planner still calling `written_state`
empty, filtering every ticket row per 900-id look-up instead of seeking them (665 s against
a second or two once analyzed).

`analyze_stale` applies autovacuum's own rule (changed rows since the last analyze above
`BASE + SCALE * rows`) to pulsehub's tables and analyzes those past it, now; it is a no-op on
SQLite, and cheap where autovacuum has kept up (one read of `pg_stat_user_tables`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.orm import Session

from model.tables import Base

log = logging.getLogger(__name__)

# autovacuum's defaults (autovacuum_analyze_threshold / _scale_factor), with a higher floor:
# a small table planned on stale statistics costs nothing worth a pause
BASE, SCALE = 10_000, 0.1


def analyze_stale(
    session: Session, only: Collection[str] | None = None, always: Collection[str] = ()
) -> list[str]:
    """ANALYZE every pulsehub table (or those named in `only`) changed past autovacuum's rule
    since its last analyze, and the tables named in `always`; returns their names (none on
    SQLite). Commits nothing else: run it between stages, or before a statement whose plan
    depends on rows this transaction wrote (`always`: the statistics views count a
    transaction's changes only once it commits, but ANALYZE samples its own rows)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    ours = set(Base.metadata.tables) if only is None else set(only) & set(Base.metadata.tables)
    rows = session.execute(
        text(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.schemaname = current_schema() "
            "AND s.n_mod_since_analyze > :base + :scale * GREATEST(c.reltuples, 0)"
        ),
        {"base": BASE, "scale": SCALE},
    ).scalars()
    stale = sorted(
        {name for name in rows if name in ours} | (set(always) & set(Base.metadata.tables))
    )
    for name in stale:
        started = time.perf_counter()
        session.execute(text(f'ANALYZE "{name}"'))  # a name from our own metadata
        log.info("analyzed %s (%.1f s)", name, time.perf_counter() - started)
    return stale
