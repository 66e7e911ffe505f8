"""Terminal rendering of runs, plans and operator queues (rich). Presentation only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from reporting import operations as ops
from sync.pipeline import RunReport
from sync.runs import doing
from sync.writeback import PlannedWrite

BAND_STYLE = {"green": "green", "yellow": "yellow", "red": "red", "insufficient_data": "dim"}


def words(counts: Mapping[str, object]) -> str:
    """{'open_sev1': 4, 'batches': {'crm_task': 1}} -> 'open sev1: 4, batches (crm task: 1)'."""
    parts = []
    for key, value in counts.items():
        label = str(key).replace("_", " ")
        if isinstance(value, Mapping):
            parts.append(f"{label} ({words(value)})")
        else:
            parts.append(f"{label}: {value:,}" if isinstance(value, int) else f"{label}: {value}")
    return ", ".join(parts)


def print_run(console: Console, report: RunReport) -> None:
    s = report.stats()
    t = Table(title=f"sync run #{report.run_id}" + (" (dry run)" if report.dry_run else ""))
    t.add_column("stream")
    t.add_column("pulled", justify="right")
    t.add_column("quarantined", justify="right")
    for name, n in s["pulled"].items():
        t.add_row(name, str(n), str(s["quarantined"].get(name, 0)))
    console.print(t)
    bands = ", ".join(
        f"[{BAND_STYLE.get(b, '')}]{b}[/]: {n}" for b, n in sorted(s["bands"].items())
    )
    console.print(f"health: {bands or 'no accounts scored'}")
    if s["escalations"]:
        console.print(f"escalations: {words(s['escalations'])}")
    if s.get("operations"):
        console.print(f"onboarding and handoffs: {words(s['operations'])}")
    if s.get("voice"):
        console.print(f"voice of the customer: {words(s['voice'])}")
    console.print(f"planned writes: {words(s['planned']) or 'none'}")
    if s["pushed"]:
        console.print(f"pushed: {words(s['pushed'])}")
    if s.get("api_calls"):
        quota = "; ".join(
            f"{system} quota {q.get('used', 0):,} of {q.get('total', 0):,} used"
            for system, q in (s.get("quota") or {}).items()
        )
        console.print(f"API requests: {words(s['api_calls'])}" + (f"; {quota}" if quota else ""))
    for err in s["errors"]:
        console.print(f"[red]error:[/] {err}")
    console.print(f"took {s['seconds']:.1f}s")


def print_plan(
    console: Console, plan: Sequence[PlannedWrite], total: int | None = None, limit: int = 200
) -> None:
    """List the plan's first `limit` records; `total` is the whole plan's size when `plan`
    is only its first part (a streamed plan keeps no more)."""
    total = len(plan) if total is None else total
    t = Table(title=f"write-back plan: {total} record(s)")
    for col in ("system", "record", "field / tag", "old", "new"):
        t.add_column(col, overflow="fold")
    for p in plan[:limit]:
        for c in p.changes:
            t.add_row(
                p.system, f"{p.kind}:{p.target_id}", c.field, c.old or "", c.new or "(remove)"
            )
    console.print(t)
    shown = min(len(plan), limit)
    if total > shown:
        console.print(f"... and {total - shown} more record(s)")


def print_status(console: Console, factory: sessionmaker[Session], limit: int = 10) -> None:
    with factory() as session:
        runs = ops.recent_runs(session, limit)
        t = Table(title="recent runs")
        for col in ("id", "kind", "status", "started", "seconds", "pulled", "errors"):
            t.add_column(col)
        t.add_column("why", overflow="fold")
        for r in runs:
            st = r.stats or {}
            t.add_row(
                str(r.id),
                r.kind,
                r.status,
                f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                str(st.get("seconds", "")),
                str(sum((st.get("pulled") or {}).values())),
                str(len(st.get("errors") or [])),
                (r.error or "")[:200] if r.status in ("aborted", "failed") else doing(r) or "",
            )
        console.print(t)
        cur = Table(title="cursors")
        cur.add_column("stream")
        cur.add_column("position", overflow="fold")
        cur.add_column("updated")
        for c in ops.cursors(session):
            cur.add_row(c.stream, (c.value or "")[:80], f"{c.updated_at:%Y-%m-%d %H:%M:%S}")
        console.print(cur)
        outbox = {f"{k} {st}": n for (k, st), n in ops.outbox_by_kind(session).items()}
        console.print(f"outbox: {words(outbox) or 'empty'}")
        for d in ops.dead_letters(session, limit):
            console.print(f"  [red]dead[/] #{d.id} {d.kind} {d.target_id}: {d.last_error}")
        q, quarantined = ops.quarantined(session, limit)
        console.print(f"quarantined records: {q}")
        for rec in quarantined:
            console.print(f"  {rec.source}.{rec.stream} {rec.external_id}: {rec.reason[:160]}")


def print_identity_review(console: Console, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        queue, names = ops.review_records(session)
        t = Table(title="identity review queue")
        for col in ("id", "source", "external id", "name", "domains", "status", "candidates"):
            t.add_column(col, overflow="fold")
        n = 0
        for r in queue:
            n += 1
            t.add_row(
                str(r.id),
                r.source,
                r.external_id,
                r.name or "",
                ", ".join(r.domains or []),
                f"{r.status} ({r.method or '-'})",
                ", ".join(f"#{c} {names.get(int(c), '?')}" for c in r.candidates or []),
            )
        console.print(t)
        console.print(
            f"{n} record(s) to review: `pulsehub identity link ID ACCOUNT_ID` or `reject ID`"
        )


class SyncProgress:
    """A rich progress display for a sync: one line per stream with its record count."""

    def __init__(self, console: Console) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[n]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, object] = {}
        self._current: str | None = None

    def __enter__(self) -> SyncProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish_current()
        self._progress.__exit__(*exc)  # type: ignore[arg-type]

    def _finish_current(self) -> None:
        if self._current is not None:
            self._progress.update(self._tasks[self._current], total=1, completed=1)  # type: ignore[arg-type]

    def __call__(self, step: str, count: int) -> None:
        if step != self._current:
            self._finish_current()
            self._current = step
            if step not in self._tasks:
                self._tasks[step] = self._progress.add_task(step, total=None, n="")
        label = f"{count:,} records" if "." in step else (f"{count:,} writes" if count else "")
        self._progress.update(self._tasks[step], n=label)  # type: ignore[arg-type]
