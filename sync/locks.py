"""Job locks so two runs of the same job never overlap (Redis; in-process fallback).

A lock's value is the holder's token (the Celery task id): a redelivered task — same id,
after its worker was killed — may take over its own stale lock instead of waiting out the TTL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()

# Atomically: take the lock if free or already ours; returns 1 when held by `token`.
_ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LockBusy(Exception):
    """Another run of this job holds the lock."""


@contextmanager
def redis_lock(client: Any, name: str, token: str, ttl_s: int) -> Iterator[None]:
    key = f"pulsehub:lock:{name}"
    if not client.eval(_ACQUIRE, 1, key, token, int(ttl_s * 1000)):
        raise LockBusy(name)
    try:
        yield
    finally:
        client.eval(_RELEASE, 1, key, token)


@contextmanager
def local_lock(name: str) -> Iterator[None]:
    """For the embedded default (no broker): one run per job per process."""
    with _guard:
        lock = _local_locks.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        raise LockBusy(name)
    try:
        yield
    finally:
        lock.release()
