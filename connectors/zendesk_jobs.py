"""Zendesk `update_many` jobs: submit (re-sending only what a read-back does not confirm),
then poll every queued job together through `job_statuses/show_many`.

An unanswered submission leaves no job id to poll, so the records are read back through
`tickets|organizations/show_many` after the policy's backoff. A job Zendesk queued but has
not run by then reads back as not applied and is sent again: a repeat of the same values,
never a wrong one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.confirm import send_confirmed
from connectors.errors import ConnectorError, Fatal, Retriable
from connectors.records import WriteResult
from connectors.zendesk_transport import ZendeskTransport

logger = logging.getLogger(__name__)
JOB_WAVE = 25  # Zendesk queues at most ~30 jobs per account at once
SHOW_MANY_LIMIT = 100  # ids (jobs, tickets, organizations) asked for in one show_many request
JOB_DONE = frozenset({"completed", "failed", "killed"})


@dataclass
class Job:
    """One `update_many` job: its result keys ("<group>:<record id>"), a call that submits it
    for some of those keys, and a read-back that says which keys already hold their change."""

    keys: list[str]
    submit: Callable[[list[str]], Any]
    confirm: Callable[[list[str]], Collection[str]]
    check_first: Collection[str] = ()


def rid(key: str) -> str:
    """The record id in a result key "<group>:<record id>"."""
    return key.split(":", 1)[1]


class ZendeskJobs:
    """Job submission and polling shared by the writer's tag and organization writes."""

    transport: ZendeskTransport
    max_polls: int
    poll_interval: float
    max_poll_interval: float

    def _put_job(self, path: str, payload: Any, params: dict[str, Any] | None = None) -> Any:
        """Submit a job; not re-sent blind when unanswered (`send_confirmed` reads back)."""
        return self.transport.request("PUT", path, params=params, json=payload, idempotent=False)

    def _submit_jobs(
        self, jobs: Sequence[Job], results: dict[str, WriteResult]
    ) -> list[tuple[list[str], dict[str, Any]]]:
        """Submit each job; a submission left unanswered re-sends only the keys a read-back
        does not confirm. Returns (keys, job status) of the jobs queued."""
        pending: list[tuple[list[str], dict[str, Any]]] = []
        for job in jobs:
            out = send_confirmed(
                job.keys,
                job.submit,
                job.confirm,
                self.transport.policy,
                check_first=job.check_first,
            )
            results.update({k: WriteResult.success(rid(k)) for k in out.confirmed})
            if out.failed:
                error = unconfirmed(out.error)
                results.update({k: WriteResult.failure(rid(k), error) for k in out.failed})
            if out.sent:
                status = (out.response or {}).get("job_status")
                if isinstance(status, dict) and status.get("id") is not None:
                    pending.append((out.sent, status))
                else:
                    error = Retriable("answer carried no job_status", code="NO_JOB_STATUS")
                    results.update({k: WriteResult.failure(rid(k), error) for k in out.sent})
        return pending

    def _run_jobs(self, jobs: Sequence[Job]) -> dict[str, WriteResult]:
        """Queue up to JOB_WAVE jobs, then poll them together: one wait and one `show_many`
        request per round, not one of each per job."""
        results: dict[str, WriteResult] = {}
        for wave in range(0, len(jobs), JOB_WAVE):
            pending = self._submit_jobs(jobs[wave : wave + JOB_WAVE], results)
            for poll in range(self.max_polls + 1):
                waiting = [(k, j) for k, j in pending if j.get("status") not in JOB_DONE]
                for keys, job in [(k, j) for k, j in pending if j.get("status") in JOB_DONE]:
                    by_id = {
                        str(r.get("id")): r for r in job.get("results") or [] if isinstance(r, dict)
                    }
                    for k in keys:
                        results[k] = job_result(rid(k), by_id.get(rid(k)), job)
                if not waiting or poll == self.max_polls:
                    break
                self.transport.policy.sleep(
                    min(self.max_poll_interval, self.poll_interval * 2**poll)
                )
                try:
                    seen = self._job_statuses([str(job["id"]) for _, job in waiting])
                except (Retriable, Fatal) as exc:
                    for keys, _ in waiting:
                        results.update({k: WriteResult.failure(rid(k), exc) for k in keys})
                    pending = []
                    break
                pending = [(keys, seen.get(str(job["id"]), job)) for keys, job in waiting]
            for keys, job in pending:
                if job.get("status") not in JOB_DONE:
                    error = Retriable(
                        f"job {job.get('id')} still {job.get('status')}", code="JOB_PENDING"
                    )
                    results.update({k: WriteResult.failure(rid(k), error) for k in keys})
        return results

    def _job_statuses(self, job_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The jobs' current statuses: one `show_many` request per 100 jobs, not one per job.
        A job missing from the answer is left as it was (still waiting)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(job_ids), SHOW_MANY_LIMIT):
            ids = ",".join(job_ids[start : start + SHOW_MANY_LIMIT])
            body = self.transport.request("GET", "job_statuses/show_many.json", params={"ids": ids})
            for job in (body or {}).get("job_statuses") or []:
                if isinstance(job, dict) and job.get("id") is not None:
                    found[str(job["id"])] = job
        return found

    def _show_many(self, kind: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Current tickets or organizations by id: one `show_many` request per 100 ids."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), SHOW_MANY_LIMIT):
            body = self.transport.request(
                "GET",
                f"{kind}/show_many.json",
                params={"ids": ",".join(ids[start : start + SHOW_MANY_LIMIT])},
            )
            for rec in (body or {}).get(kind) or []:
                if isinstance(rec, dict) and rec.get("id") is not None:
                    found[str(rec["id"])] = rec
        return found


def unconfirmed(error: ConnectorError | None) -> ConnectorError:
    """The error of writes left unconfirmed (the send's own error when there was one)."""
    return error or Retriable("write not confirmed", code="UNCONFIRMED")


def job_result(target: str, result: dict[str, Any] | None, job: dict[str, Any]) -> WriteResult:
    if result is None:
        status = job.get("status")
        if status == "completed":
            return WriteResult.failure(
                target, Fatal("no result for this id in the job", code="NO_RESULT")
            )
        return WriteResult.failure(
            target, Retriable(job.get("message") or f"job {status}", code=f"JOB_{status}".upper())
        )
    if result.get("success", result.get("status") in ("Updated", "Created")):
        return WriteResult.success(target)
    message = result.get("details") or result.get("error") or result.get("status") or "failed"
    error: ConnectorError = Fatal(str(message), code=str(result.get("error") or "UPDATE_FAILED"))
    return WriteResult.failure(target, error)
