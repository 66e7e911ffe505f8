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
    assert sched["full_reconcile"].cron == "30 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incremental_sync: {every: 5}", "incremental_sync.every"),
        ("incremental_sync: {every: 60, cron: '1 2'}", "exactly one"),
        ("nightly: {every: 60}", "unknown job 'nightly'"),
        ("drain_outbox: {evry: 60}", "drain_outbox.evry"),
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
