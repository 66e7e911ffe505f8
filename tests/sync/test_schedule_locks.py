"""Beat schedule validation and job locks (real Redis)."""

from __future__ import annotations

import uuid

import pytest

from sync.locks import LockBusy, local_lock, redis_lock
from sync.schedule import ScheduleError, load_schedule


def test_default_schedule() -> None:
    sched = load_schedule()
    assert sched["incremental_sync"].every == 900
    assert sched["drain_outbox"].every == 60
    assert sched["full_reconcile"].cron == "30 2 * * *"
    nightly = sched["full_reconcile"].trigger()
    assert not isinstance(nightly, float)
    assert nightly.minute == {30} and nightly.hour == {2} and len(nightly.day_of_week) == 7


def test_cron_takes_every_standard_field() -> None:
    from sync.schedule import Entry

    weekdays = Entry(cron="*/15 8-18 * * mon-fri").trigger()
    assert not isinstance(weekdays, float)
    assert weekdays.minute == {0, 15, 30, 45} and weekdays.day_of_week == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incremental_sync: {every: 5}", "incremental_sync.every"),
        ("incremental_sync: {every: 60, cron: '1 2'}", "exactly one"),
        ("nightly: {every: 60}", "unknown job 'nightly'"),
        ("drain_outbox: {evry: 60}", "drain_outbox.evry"),
        ("full_reconcile: {cron: '30 2'}", "has 2 fields; give five"),
        ("full_reconcile: {cron: '61 2 * * *'}", "full_reconcile: "),
        ("full_reconcile: {cron: '30 2 * * someday'}", "full_reconcile: "),
        ("- a\n- b", "mapping"),
    ],
)
def test_bad_schedule_names_file_and_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text)
    with pytest.raises(ScheduleError) as exc:
        load_schedule(path)
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_local_lock_refuses_a_second_holder() -> None:
    with local_lock("job-a"), pytest.raises(LockBusy), local_lock("job-a"):
        pass
    with local_lock("job-a"):
        pass


@pytest.mark.redis
def test_redis_lock_one_holder_and_takeover_by_same_token(redis_url) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    name = f"test-{uuid.uuid4().hex}"
    with redis_lock(client, name, "task-1", ttl_s=30):
        with pytest.raises(LockBusy), redis_lock(client, name, "task-2", ttl_s=30):
            pass
        # the same task, redelivered after its worker died, may take over its own lock
        with redis_lock(client, name, "task-1", ttl_s=30):
            pass
    with redis_lock(client, name, "task-2", ttl_s=30):
        pass
