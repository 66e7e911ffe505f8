"""Zendesk writes: ticket tags, organization fields (update_many + job polling), tickets."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from connectors.errors import ConnectorError, Fatal, Retriable
from connectors.records import WriteResult
from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_transport import ZendeskTransport

logger = logging.getLogger(__name__)
UPDATE_MANY_LIMIT = 100
JOB_WAVE = 25  # Zendesk queues at most ~30 jobs per account at once
SHOW_MANY_LIMIT = 100  # job statuses asked for in one job_statuses/show_many request
JOB_DONE = frozenset({"completed", "failed", "killed"})
COMMENTS_PAGE = 100  # newest comments read before re-sending one (one page, the API's largest)


class ZendeskWriter:
    """Performs the writes of `ZendeskConnector`; refuses disallowed fields/tags before calls."""

    def __init__(
        self,
        transport: ZendeskTransport,
        *,
        writable_org_fields: Sequence[str],
        allowed_tags: Sequence[str] | None,
        max_polls: int = 60,
        poll_interval: float = 0.2,
        max_poll_interval: float = 2.0,
    ) -> None:
        self.transport = transport
        self.writable_org_fields = frozenset(writable_org_fields)
        self.allowed_tags = frozenset(allowed_tags) if allowed_tags is not None else None
        self.max_polls = max_polls
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval

    def tags(self, ticket_id: int, tags: list[str], *, add: bool) -> WriteResult:
        """PUT adds tags, DELETE removes them; neither touches the ticket's other tags."""
        target = str(ticket_id)
        if self.allowed_tags is not None and (bad := sorted(set(tags) - self.allowed_tags)):
            return WriteResult.failure(
                target,
                Fatal(f"refused: tags {bad} are not in allowed_tags", code="TAG_NOT_ALLOWED"),
            )
        method = "PUT" if add else "DELETE"
        try:
            self.transport.request(method, f"tickets/{ticket_id}/tags.json", json={"tags": tags})
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(target, exc)
        return WriteResult.success(target)

    def bulk_tags(
        self, ticket_ids: Sequence[int], add: Sequence[str], remove: Sequence[str]
    ) -> list[WriteResult]:
        """One `update_many.json?ids=` call per 100 tickets: add/remove tags, keep the others."""
        return self.bulk_tag_groups([(ticket_ids, add, remove)])[0]

    def bulk_tag_groups(
        self, groups: Sequence[tuple[Sequence[int], Sequence[str], Sequence[str]]]
    ) -> list[list[WriteResult]]:
        """Several tag changes, each on its tickets; all jobs are queued, then polled together."""
        results: dict[str, WriteResult] = {}
        jobs: list[tuple[list[str], Callable[[], Any]]] = []
        keys: list[list[str]] = []
        for g, (ticket_ids, add, remove) in enumerate(groups):
            targets = [str(t) for t in ticket_ids]
            keys.append([f"{g}:{t}" for t in targets])
            allowed = self.allowed_tags
            bad = sorted((set(add) | set(remove)) - allowed) if allowed is not None else []
            if bad:
                error = Fatal(
                    f"refused: tags {bad} are not in allowed_tags", code="TAG_NOT_ALLOWED"
                )
                results.update({f"{g}:{t}": WriteResult.failure(t, error) for t in targets})
                continue
            change: dict[str, Any] = {}
            if add:
                change["additional_tags"] = list(add)
            if remove:
                change["remove_tags"] = list(remove)
            for start in range(0, len(targets), UPDATE_MANY_LIMIT):
                chunk = targets[start : start + UPDATE_MANY_LIMIT]
                jobs.append(
                    (
                        [f"{g}:{t}" for t in chunk],
                        self._submit(
                            "tickets/update_many.json", {"ticket": change}, {"ids": ",".join(chunk)}
                        ),
                    )
                )
        results.update(self._run_jobs(jobs))
        return [[results[k] for k in group_keys] for group_keys in keys]

    def _submit(self, path: str, payload: dict[str, Any], params: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        return lambda: self.transport.request("PUT", path, params=params, json=payload)

    def _run_jobs(
        self, jobs: Sequence[tuple[list[str], Callable[[], Any]]]
    ) -> dict[str, WriteResult]:
        """Queue up to JOB_WAVE jobs, then poll them together: one wait and one `show_many`
        request per round, not one of each per job.

        Each job is (result keys "<group>:<record id>", a call that submits it).
        """
        results: dict[str, WriteResult] = {}
        for wave in range(0, len(jobs), JOB_WAVE):
            pending: list[tuple[list[str], dict[str, Any]]] = []
            for keys, submit in jobs[wave : wave + JOB_WAVE]:
                try:
                    pending.append((keys, submit()["job_status"]))
                except (Retriable, Fatal) as exc:
                    results.update({k: WriteResult.failure(k.split(":", 1)[1], exc) for k in keys})
            for poll in range(self.max_polls + 1):
                waiting = [(k, j) for k, j in pending if j.get("status") not in JOB_DONE]
                for keys, job in [(k, j) for k, j in pending if j.get("status") in JOB_DONE]:
                    by_id = {
                        str(r.get("id")): r for r in job.get("results") or [] if isinstance(r, dict)
                    }
                    for k in keys:
                        rid = k.split(":", 1)[1]
                        results[k] = _job_result(rid, by_id.get(rid), job)
                if not waiting or poll == self.max_polls:
                    break
                self.transport.policy.sleep(
                    min(self.max_poll_interval, self.poll_interval * 2**poll)
                )
                try:
                    seen = self._job_statuses([str(job["id"]) for _, job in waiting])
                except (Retriable, Fatal) as exc:
                    for keys, _ in waiting:
                        results.update(
                            {k: WriteResult.failure(k.split(":", 1)[1], exc) for k in keys}
                        )
                    pending = []
                    break
                pending = [(keys, seen.get(str(job["id"]), job)) for keys, job in waiting]
            for keys, job in pending:
                if job.get("status") not in JOB_DONE:
                    error = Retriable(
                        f"job {job.get('id')} still {job.get('status')}", code="JOB_PENDING"
                    )
                    results.update(
                        {k: WriteResult.failure(k.split(":", 1)[1], error) for k in keys}
                    )
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

    def comment(
        self,
        ticket_id: int,
        body: str,
        *,
        public: bool = False,
        status: str | None = None,
        key: str | None = None,
        maybe_sent: bool = False,
    ) -> WriteResult:
        """Add a comment (internal by default), optionally changing the status.

        Not retried in-process: a re-sent comment would post twice. With `key`, the body ends
        in the key's marker; with `maybe_sent` too (the outbox's retry of a send whose answer
        may have been lost), the ticket's newest comments are read first and a comment already
        carrying the marker counts as done: exactly once in effect, one request when first sent.
        """
        if key:
            body = f"{body}\n\n{comment_marker(key)}"
        ticket: dict[str, Any] = {"comment": {"body": body, "public": public}}
        if status:
            ticket["status"] = status
        try:
            if key and maybe_sent and self._has_comment(ticket_id, comment_marker(key)):
                logger.info("comment on ticket #%s already posted; not re-sending", ticket_id)
                return WriteResult.success(str(ticket_id))
            self.transport.request(
                "PUT", f"tickets/{ticket_id}.json", json={"ticket": ticket}, idempotent=False
            )
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(str(ticket_id), exc)
        return WriteResult.success(str(ticket_id))

    def _has_comment(self, ticket_id: int, marker: str) -> bool:
        """Whether one of the ticket's newest 100 comments carries `marker` (one request).

        Cursor pagination sorts with `sort=-created_at` (`sort_order` is the offset form).
        """
        found = self.transport.request(
            "GET",
            f"tickets/{ticket_id}/comments.json",
            params={"page[size]": COMMENTS_PAGE, "sort": "-created_at"},
        )
        return any(
            marker in str(c.get("body") or "") or marker in str(c.get("plain_body") or "")
            for c in (found or {}).get("comments") or []
            if isinstance(c, dict)
        )

    def update_organizations(self, updates: Sequence[OrgUpdate]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        pending: list[tuple[int, OrgUpdate]] = []
        for i, update in enumerate(updates):
            bad = sorted(set(update.fields) - self.writable_org_fields)
            if bad:
                error = Fatal(
                    f"refused: organization fields {bad} are not in writable_org_fields "
                    f"({sorted(self.writable_org_fields)})",
                    code="FIELD_NOT_WRITABLE",
                )
                results[i] = WriteResult.failure(str(update.id), error)
            else:
                pending.append((i, update))
        jobs = []
        for start in range(0, len(pending), UPDATE_MANY_LIMIT):
            chunk = pending[start : start + UPDATE_MANY_LIMIT]
            payload = {
                "organizations": [{"id": u.id, "organization_fields": u.fields} for _, u in chunk]
            }
            jobs.append(
                (
                    [f"{i}:{u.id}" for i, u in chunk],
                    self._submit("organizations/update_many.json", payload),
                )
            )
        for key, result in self._run_jobs(jobs).items():
            results[int(key.split(":", 1)[0])] = result
        return [results[i] for i in range(len(updates))]

    def create_ticket(self, ticket: TicketCreate, idempotency_key: str) -> WriteResult:
        target = ticket.external_id
        try:
            existing = self._find_by_external_id(ticket.external_id)
            if existing is not None:
                logger.info("ticket with external_id exists (#%s); not creating", existing)
                return WriteResult.success(target, created_id=str(existing))
            body = self.transport.request(
                "POST",
                "tickets.json",
                json={"ticket": ticket.payload()},
                headers={"Idempotency-Key": idempotency_key[:255]},
                idempotent=True,  # the Idempotency-Key makes re-sending safe
            )
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(target, exc)
        return WriteResult.success(target, created_id=str(body["ticket"]["id"]))

    def _find_by_external_id(self, external_id: str) -> int | None:
        body = self.transport.request("GET", "tickets.json", params={"external_id": external_id})
        tickets = (body or {}).get("tickets") or []
        return int(tickets[0]["id"]) if tickets else None


def comment_marker(key: str) -> str:
    """The last line of a comment pulsehub posts: a short digest of its outbox key."""
    return f"[pulsehub:{hashlib.sha256(key.encode()).hexdigest()[:16]}]"


def _job_result(target: str, result: dict[str, Any] | None, job: dict[str, Any]) -> WriteResult:
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
