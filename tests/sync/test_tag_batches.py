"""Tag changes leave the outbox in whole bulk jobs, one change per job, a window at a time."""

from __future__ import annotations

from connectors.zendesk_tags import split_tag_jobs
from model.db import transaction
from model.tables import OutboxItem
from sync import push
from sync.push import Route
from tests.sync.pushers import ok_pusher


def _tag_item(n: int, add: str, remove: str) -> OutboxItem:
    return OutboxItem(
        key=f"helpdesk_ticket_tags:{n}",
        system="zendesk",
        kind="helpdesk_ticket_tags",
        target_id=str(n),
        payload={"add": [add], "remove": [remove]},
    )


def test_tag_changes_are_cut_into_whole_jobs() -> None:
    """Interleaved changes (A B A B ...) still go out as full jobs of one change each."""
    items = [_tag_item(n, *(("health_red", "health_green") if n % 2 else ("health_green", "health_red")))
             for n in range(1, 501)]  # fmt: skip
    batches = split_tag_jobs(items, job_size=100, jobs_per_batch=3)
    # each change: jobs of 100, 100, 50; three jobs a batch
    assert [len(b) for b in batches] == [250, 250]
    for batch in batches:
        changes = [tuple(i.payload["add"]) for i in batch]
        assert len(set(changes)) == 1, "a change's jobs stay together; no job mixes changes"
    assert sorted(int(str(i.target_id)) for b in batches for i in b) == list(range(1, 501))


def test_drain_reads_a_window_and_pushes_the_routes_batches(factory) -> None:
    with transaction(factory) as s:
        s.add_all(
            _tag_item(n, *(("health_red", "health_green") if n % 3 else ("health_green", "health_red")))
            for n in range(1, 251)
        )  # fmt: skip
    calls: list[int] = []
    route = Route(ok_pusher(calls), 200, window=1000, split=split_tag_jobs)
    stats = push.drain(factory, {"helpdesk_ticket_tags": route})
    assert stats.done == 250 and calls == [250], "both changes in whole jobs, one batch"
    calls.clear()
    with transaction(factory) as s:
        s.add_all(_tag_item(n, "health_yellow", "health_red") for n in range(300, 310))
    stats = push.drain(factory, {"helpdesk_ticket_tags": Route(ok_pusher(calls), 4)})
    assert calls == [4, 4, 2], "without split: the due order, batch_size at a time"
