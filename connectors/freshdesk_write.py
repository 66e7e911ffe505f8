"""Freshdesk writes and their outbox kinds: company fields, ticket tags, escalation tickets,
escalation tags and private notes.

Freshdesk updates one record per request (no bulk update of companies, and a ticket's
`tags` replace its whole list), so a batch is sent record by record under the account's
rate limit (429 + Retry-After waited out by the shared policy). Each write is safe to repeat:
- company fields: a PUT of the values themselves;
- ticket tags: the ticket is read, the change applied to its tags, and written only when the
  list changes (a repeat finds nothing to do; an agent's edit between read and write can be
  lost, which Freshdesk's API gives no way to prevent);
- a ticket creation carries a tag made from pulsehub's key (`ph-` + a digest): Freshdesk
  takes no idempotency key, so the key tag is searched before creating and after an
  unanswered create (search is indexed within seconds, not instantly: a retry soon after a
  lost answer may not see it yet, so a lost answer waits for the outbox's next try);
- a note ends in the key's marker; a maybe-sent note is looked for before it is re-sent.

An engineering ticket names its customer's company in its description but does not set
`company_id`: Freshdesk accepts only a company of the requester (pulsehub's agent), and a
ticket under the customer's company would count as the customer's own support load (an
urgent one, at that) in the next score, which would feed the escalation that opened it.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.base import WriteItem, WriteKind
from connectors.confirm import send_confirmed
from connectors.errors import Fatal, Retriable
from connectors.freshdesk_records import PRIORITY_OF, STATUS_OF
from connectors.freshdesk_transport import FreshdeskTransport
from connectors.records import WriteResult
from connectors.write_fields import WriteFields, push_fields

logger = logging.getLogger(__name__)
ORG_FIELDS, TICKET_TAGS, TICKET, ESCALATION_TAGS, COMMENT = (
    "helpdesk_org_fields", "helpdesk_ticket_tags", "helpdesk_ticket", "helpdesk_escalation_tags", "helpdesk_comment"
)  # fmt: skip
PER_CALL = 100  # items read from the outbox at once; each is still one request
NOTE_PAGES = 10  # conversation pages (of 100) read when looking for a note already posted
TICKET_TYPES = {"question": "Question", "incident": "Incident", "problem": "Problem"}


def key_tag(key: str) -> str:
    """The tag a created ticket carries so a retry can find it (short: tags are limited)."""
    return f"ph-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def note_marker(key: str) -> str:
    return f"[pulsehub:{hashlib.sha256(key.encode()).hexdigest()[:16]}]"


class FreshdeskWrites:
    """Performs the writes; refuses fields and tags outside the allow-lists before any call."""

    def __init__(
        self,
        transport: FreshdeskTransport,
        *,
        writable_company_fields: Sequence[str],
        allowed_tags: Sequence[str] | None,
        requester_email: str | None,
        group_id: int | None = None,
    ) -> None:
        self.transport = transport
        self.writable = frozenset(writable_company_fields)
        self.allowed_tags = frozenset(allowed_tags) if allowed_tags is not None else None
        self.requester_email = requester_email
        self.group_id = group_id

    def company_fields(self, company_id: int, fields: Mapping[str, Any]) -> WriteResult:
        target = str(company_id)
        if outside := sorted(set(fields) - self.writable):
            error = Fatal(
                f"refused: company fields {outside} are not writable", code="FIELD_NOT_WRITABLE"
            )
            return WriteResult.failure(target, error)
        body = {"custom_fields": dict(fields)}
        return _result(
            target, lambda: self.transport.request("PUT", f"companies/{company_id}", json=body)
        )

    def tags(self, ticket_id: int, add: Sequence[str], remove: Sequence[str]) -> WriteResult:
        """Add and remove tags, keeping the ticket's others (read, change, write if changed)."""
        target = str(ticket_id)
        if self.allowed_tags is not None and (
            bad := sorted((set(add) | set(remove)) - self.allowed_tags)
        ):
            return WriteResult.failure(
                target,
                Fatal(f"refused: tags {bad} are not in allowed_tags", code="TAG_NOT_ALLOWED"),
            )

        def write() -> Any:
            current = self.transport.request("GET", f"tickets/{ticket_id}").json().get("tags") or []
            wanted = [t for t in current if t not in remove] + [t for t in add if t not in current]
            if wanted == list(current):
                return None
            return self.transport.request("PUT", f"tickets/{ticket_id}", json={"tags": wanted})

        return _result(target, write)

    def create_ticket(self, payload: Mapping[str, Any], key: str) -> WriteResult:
        """Open a ticket at most once: its key tag is searched first and after a lost answer."""
        target = str(payload.get("external_id") or key)
        if not self.requester_email:
            error = Fatal("no requester for escalation tickets: set the Freshdesk source's "
                          "`requester_email` option", code="NO_REQUESTER")  # fmt: skip
            return WriteResult.failure(target, error)
        tag = key_tag(key)
        found: list[int] = []

        def confirm(keys: list[str]) -> list[str]:
            query = f"\"tag:'{tag}'\""
            results = self.transport.request("GET", "search/tickets", params={"query": query})
            hits = results.json().get("results") or []
            found.extend(int(h["id"]) for h in hits[:1])
            return keys if hits else []

        try:
            if confirm([target]):
                logger.info("ticket with key tag %s exists (#%s); not creating", tag, found[0])
                return WriteResult.success(target, created_id=str(found[0]))
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(target, exc)
        body = self._ticket_body(payload, tag)
        out = send_confirmed(
            [target],
            lambda _: self.transport.request("POST", "tickets", json=body, idempotent=False),
            confirm,
            self.transport.policy,
        )
        if out.failed:
            assert out.error is not None
            return WriteResult.failure(target, out.error)
        created = found[0] if out.confirmed else out.response.json()["id"]
        return WriteResult.success(target, created_id=str(created))

    def _ticket_body(self, p: Mapping[str, Any], tag: str) -> dict[str, Any]:
        text = str(p.get("body") or p.get("subject") or "")
        body: dict[str, Any] = {
            "subject": str(p.get("subject") or text[:80]),
            "description": "<br>".join(html.escape(line) for line in text.splitlines()) or text,
            "email": self.requester_email,
            "status": STATUS_OF["open"],
            "priority": PRIORITY_OF.get(str(p.get("priority") or "normal"), 2),
            "tags": [*list(p.get("tags") or []), tag],
        }
        if p.get("organization_id"):  # named, not set: see the module docstring
            body["description"] += f"<br><br>Customer company: #{int(p['organization_id'])}"
        group = self.group_id or p.get("group_id")
        if group:
            body["group_id"] = int(group)
        if kind := TICKET_TYPES.get(str(p.get("type") or "")):
            body["type"] = kind
        return body

    def note(
        self,
        ticket_id: int,
        text: str,
        *,
        public: bool,
        status: str | None,
        key: str,
        maybe_sent: bool,
    ) -> WriteResult:
        """A note once per key (private unless `public`), then the status change if any."""
        target = str(ticket_id)
        marker = note_marker(key)
        body = {
            "body": f"{html.escape(text)}<br><br>{marker}".replace("\n", "<br>"),
            "private": not public,
        }
        try:
            if not (maybe_sent and self._has_note(ticket_id, marker)):
                out = send_confirmed(
                    [target],
                    lambda _: self.transport.request(
                        "POST", f"tickets/{ticket_id}/notes", json=body, idempotent=False
                    ),
                    lambda keys: keys if self._has_note(ticket_id, marker) else [],
                    self.transport.policy,
                )
                if out.failed:
                    assert out.error is not None
                    return WriteResult.failure(target, out.error)
            if status in STATUS_OF:
                self.transport.request(
                    "PUT", f"tickets/{ticket_id}", json={"status": STATUS_OF[status]}
                )
        except (Retriable, Fatal) as exc:
            return WriteResult.failure(target, exc)
        return WriteResult.success(target)

    def _has_note(self, ticket_id: int, marker: str) -> bool:
        for page in range(1, NOTE_PAGES + 1):
            params = {"per_page": 100, "page": page}
            response = self.transport.request(
                "GET", f"tickets/{ticket_id}/conversations", params=params
            )
            if any(
                marker in str(c.get("body_text") or c.get("body") or "") for c in response.json()
            ):
                return True
            if "next" not in response.links:
                return False
        return False


def _result(target: str, send: Callable[[], Any]) -> WriteResult:
    try:
        send()
    except (Retriable, Fatal) as exc:
        return WriteResult.failure(target, exc)
    return WriteResult.success(target)


def write_kinds(fields: WriteFields) -> dict[str, WriteKind]:
    """In drain order: tickets are created before the notes that may refer to them."""
    kinds = [
        WriteKind(ORG_FIELDS, PER_CALL, entity="organization", fields=fields),
        WriteKind(TICKET_TAGS, PER_CALL, entity="ticket"),
        WriteKind(TICKET, 1, mark_in_flight=True),
        WriteKind(ESCALATION_TAGS, PER_CALL),
        WriteKind(COMMENT, 1, mark_in_flight=True),
    ]
    return {k.name: k for k in kinds}


class FreshdeskOutboxWriter:
    """`connectors.base.Writer` for Freshdesk: one request (or a read and a write) a record."""

    def __init__(self, writes: FreshdeskWrites, fields: WriteFields) -> None:
        self.writes = writes
        self.fields = fields
        self._kinds = write_kinds(fields)

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        if kind == ORG_FIELDS:
            return self._company_fields(items)
        if kind == TICKET_TAGS:
            return [self._tags(int(i.target_id), i) for i in items]
        if kind == ESCALATION_TAGS:
            return [self._tags(int(i.payload["ticket_id"]), i) for i in items]
        if kind == TICKET:
            return [self.writes.create_ticket(i.payload, i.idempotency_key()) for i in items]
        if kind == COMMENT:
            return [self._note(i) for i in items]
        raise ValueError(f"Freshdesk writes no {kind!r}")

    def _company_fields(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        def send(writes: list[tuple[WriteItem, dict[str, Any]]]) -> list[WriteResult]:
            return [self.writes.company_fields(int(item.target_id), api) for item, api in writes]

        allowed = sorted(self.fields.fields)
        return push_fields(
            self.fields,
            items,
            send,
            lambda outside: (
                f"refused: company fields {outside} are not in company_fields ({allowed})"
            ),
        )

    def _tags(self, ticket_id: int, item: WriteItem) -> WriteResult:
        result = self.writes.tags(
            ticket_id, item.payload.get("add") or [], item.payload.get("remove") or []
        )
        return result.model_copy(update={"target_id": item.target_id})

    def _note(self, item: WriteItem) -> WriteResult:
        p = item.payload
        if not p.get("helpdesk_ticket_id"):
            message = "the escalation's engineering ticket is not created yet"
            return WriteResult(target_id=item.target_id, ok=False, retriable=True, message=message)
        return self.writes.note(
            int(p["helpdesk_ticket_id"]),
            str(p["body"]),
            public=bool(p.get("public", False)),
            status=p.get("status"),
            key=item.idempotency_key(),
            maybe_sent=item.maybe_sent,
        )
