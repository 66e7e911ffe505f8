"""The Celery application: broker from settings, beat schedule from YAML, tasks from sync.tasks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from celery import Celery, signals

from pulsehub.logs import configure_logging, log_format
from pulsehub.settings import Settings, get_settings
from sync import tasks
from sync.schedule import load_schedule

TASK_FOR_JOB = {
    "incremental_sync": "pulsehub.incremental_sync",
    "distributed_sync": "pulsehub.distributed_sync",
    "drain_outbox": "pulsehub.drain_outbox",
    "full_reconcile": "pulsehub.full_reconcile",
    "weekly_digest": "pulsehub.weekly_digest",
}
REFRESH_TASK = "pulsehub.refresh_account"
BROKER_CONNECT_TIMEOUT_S = 5.0


def beat_schedule(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    out: dict[str, Any] = {}
    for name, entry in load_schedule(settings.schedule_file).items():
        if not entry.enabled:
            continue
        when = entry.trigger()
        task = TASK_FOR_JOB[name]
        if name == "incremental_sync" and settings.distributed:
            task = TASK_FOR_JOB["distributed_sync"]
        out[name] = {"task": task, "schedule": when, "options": {"expires": 3600}}
    return out


def make_celery(settings: Settings | None = None) -> Celery:
    """The one Celery app: the worker, beat and the web process (webhook) all build it here."""
    settings = settings or get_settings()
    backend = settings.broker_url if settings.broker_url.startswith("redis") else None
    app = Celery("pulsehub", broker=settings.broker_url, backend=backend, include=["sync.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.lock_ttl_s,
            "socket_connect_timeout": BROKER_CONNECT_TIMEOUT_S,
        },
        beat_schedule=beat_schedule(settings),
        result_expires=3600,
    )
    return app


def refresh_enqueuer(app: Celery) -> Callable[[int], None]:
    """How the web process queues a webhook's account refresh on `app`'s broker.

    Raises the broker's error (kombu OperationalError, ...) when the message was not queued.
    Nobody waits for the result: `ignore_result` also keeps the send from subscribing to the
    result backend, whose reconnect loop would hold a webhook ~20 s when Redis is down."""

    def enqueue(account_id: int) -> None:
        app.send_task(REFRESH_TASK, args=[account_id], ignore_result=True)

    return enqueue


@cache
def _runtime() -> Any:
    from pulsehub.runtime import Runtime

    return Runtime(get_settings())


@cache
def _redis() -> Any:
    import redis

    return redis.Redis.from_url(get_settings().broker_url)


@signals.setup_logging.connect
def _logging(loglevel: Any = None, **_: Any) -> None:
    """Celery's processes log in PULSEHUB_LOG_FORMAT too (connecting here replaces Celery's
    own logging set-up)."""
    level = loglevel if isinstance(loglevel, int) else logging.getLevelName(loglevel or "INFO")
    configure_logging(level if isinstance(level, int) else logging.INFO, log_format())


celery = make_celery()
tasks.configure(
    _runtime,
    _redis if get_settings().broker_url.startswith("redis") else None,
    get_settings().lock_ttl_s,
)
