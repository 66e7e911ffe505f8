"""Zendesk writes: ticket tags, organization fields (update_many + job polling), tickets."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from typing import Any

from connectors.confirm import same_value, send_confirmed
from connectors.errors import Fatal, Retriable
from connectors.records import WriteResult
from connectors.zendesk_jobs import Job, ZendeskJobs, rid, unconfirmed
from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_transport import ZendeskTransport

logger = logging.getLogger(__name__)
UPDATE_MANY_LIMIT = 100
COMMENTS_PAGE = 100  # newest comments read before re-sending one (one page, the API's largest)


class ZendeskWriter(ZendeskJobs):
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

    def tags(
        self, ticket_id: int, tags: list[str], *, add: bool, maybe_sent: bool = False
    ) -> WriteResult:
        """PUT adds tags, DELETE removes them; neither touches the ticket's other tags. With
        `maybe_sent`, the ticket is read back first and not written if it already agrees."""
        target = str(ticket_id)
        if self.allowed_tags is not None and (bad := sorted(set(tags) - self.allowed_tags)):
            return WriteResult.failure(
                target,
                Fatal(f"refused: tags {bad} are not in allowed_tags", code="TAG_NOT_ALLOWED"),
            )
        method = "PUT" if add else "DELETE"
        change = (tags, []) if add else ([], tags)
        out = send_confirmed(
            [f"0:{target}"],
            lambda _: self.transport.request(
                method, f"tickets/{ticket_id}/tags.json", json={"tags": tags}, idempotent=False
            ),
            lambda keys: self._tags_confirmed(keys, *change),
            self.transport.policy,
            check_first=[f"0:{target}"] if maybe_sent else (),
        )
        if out.failed:
            return WriteResult.failure(target, unconfirmed(out.error))
        return WriteResult.success(target)

    def bulk_tags(
        self, ticket_ids: Sequence[int], add: Sequence[str], remove: Sequence[str]
    ) -> list[WriteResult]:
        """One `update_many.json?ids=` call per 100 tickets: add/remove tags, keep the others."""
        return self.bulk_tag_groups([(ticket_ids, add, remove)])[0]

    def bulk_tag_groups(
        self,
        groups: Sequence[tuple[Sequence[int], Sequence[str], Sequence[str]]],
        maybe_sent: Collection[int] = (),
    ) -> list[list[WriteResult]]:
        """Several tag changes, each on its tickets; all jobs are queued, then polled together.
        Tickets in `maybe_sent` are read back first and skipped when they already agree."""
        results: dict[str, WriteResult] = {}
        jobs: list[Job] = []
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
            body = {"ticket": change}

            def submit(chunk: list[str], body: dict[str, Any] = body) -> Any:
                ids = ",".join(rid(k) for k in chunk)
                return self._put_job("tickets/update_many.json", body, {"ids": ids})

            def confirm(
                chunk: list[str], add: Sequence[str] = add, remove: Sequence[str] = remove
            ) -> set[str]:
                return self._tags_confirmed(chunk, add, remove)

            for start in range(0, len(targets), UPDATE_MANY_LIMIT):
                chunk = [f"{g}:{t}" for t in targets[start : start + UPDATE_MANY_LIMIT]]
                maybe = [k for k in chunk if int(rid(k)) in maybe_sent]
                jobs.append(Job(chunk, submit, confirm, maybe))
        results.update(self._run_jobs(jobs))
        return [[results[k] for k in group_keys] for group_keys in keys]

    def _tags_confirmed(
        self, keys: Sequence[str], add: Sequence[str], remove: Sequence[str]
    ) -> set[str]:
        """Keys whose ticket already has every tag in `add` and none in `remove`."""
        found = self._show_many("tickets", [rid(k) for k in keys])
        done = set()
        for k in keys:
            ticket = found.get(rid(k))
            tags = set(ticket.get("tags") or []) if ticket is not None else None
            if tags is not None and set(add) <= tags and not tags & set(remove):
                done.add(k)
        return done

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

    def update_organizations(
        self, updates: Sequence[OrgUpdate], maybe_sent: Collection[int] = ()
    ) -> list[WriteResult]:
        """Set organization fields through `update_many` jobs of 100. Organizations in
        `maybe_sent` (an earlier send went unanswered) are read back first and skipped when
        they already hold the values."""
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
        wanted = {f"{i}:{u.id}": u for i, u in pending}
        maybe = {k for k, u in wanted.items() if u.id in maybe_sent}

        def submit(keys: list[str]) -> Any:
            orgs = [{"id": wanted[k].id, "organization_fields": wanted[k].fields} for k in keys]
            return self._put_job("organizations/update_many.json", {"organizations": orgs})

        def confirm(keys: list[str]) -> set[str]:
            found = self._show_many("organizations", [rid(k) for k in keys])
            return {
                k
                for k in keys
                if (org := found.get(rid(k))) is not None
                and all(
                    same_value(v, (org.get("organization_fields") or {}).get(f))
                    for f, v in wanted[k].fields.items()
                )
            }

        keys = list(wanted)
        jobs = [
            Job(chunk, submit, confirm, maybe & set(chunk))
            for chunk in (
                keys[start : start + UPDATE_MANY_LIMIT]
                for start in range(0, len(keys), UPDATE_MANY_LIMIT)
            )
        ]
        for key, result in self._run_jobs(jobs).items():
            results[int(key.split(":", 1)[0])] = result
        return [results[i] for i in range(len(updates))]

    def create_ticket(self, ticket: TicketCreate, idempotency_key: str) -> WriteResult:
        """Create once: look the external_id up first; after an unanswered POST, look again
        before re-sending it (with the same Idempotency-Key, so a replay is safe anyway)."""
        target = ticket.external_id
        found: list[int] = []

        def confirm(keys: list[str]) -> list[str]:
            existing = self._find_by_external_id(ticket.external_id)
            found.extend([] if existing is None else [existing])
            return keys if existing is not None else []

        try:
            if confirm([target]):
                logger.info("ticket with external_id exists (#%s); not creating", found[0])
                return WriteResult.success(target, created_id=str(found[0]))
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(target, exc)
        out = send_confirmed(
            [target],
            lambda _: self.transport.request(
                "POST",
                "tickets.json",
                json={"ticket": ticket.payload()},
                headers={"Idempotency-Key": idempotency_key[:255]},
                idempotent=False,  # unanswered: looked up by external_id before a re-send
            ),
            confirm,
            self.transport.policy,
        )
        if out.failed:
            return WriteResult.failure(target, unconfirmed(out.error))
        created = found[0] if out.confirmed else (out.response or {})["ticket"]["id"]
        return WriteResult.success(target, created_id=str(created))

    def _find_by_external_id(self, external_id: str) -> int | None:
        body = self.transport.request("GET", "tickets.json", params={"external_id": external_id})
        tickets = (body or {}).get("tickets") or []
        return int(tickets[0]["id"]) if tickets else None


def comment_marker(key: str) -> str:
    """The last line of a comment pulsehub posts: a short digest of its outbox key."""
    return f"[pulsehub:{hashlib.sha256(key.encode()).hexdigest()[:16]}]"
