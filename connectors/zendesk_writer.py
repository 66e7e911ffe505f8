"""The Zendesk connector's write kinds: organization fields (logical names), ticket tags,
escalation tickets, escalation tags and comments, in the largest batches the API allows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.base import WriteItem, WriteKind
from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.records import WriteResult
from connectors.write_fields import WriteFields, parse_write_fields, push_fields
from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_tags import push_tags, split_tag_jobs
from connectors.zendesk_write import UPDATE_MANY_LIMIT, ZendeskWriter

FIELDS_PATH = Path(__file__).with_name("zendesk_fields.yaml")
ORG_FIELDS, TICKET_TAGS, TICKET, ESCALATION_TAGS, COMMENT = (
    "helpdesk_org_fields", "helpdesk_ticket_tags", "helpdesk_ticket", "helpdesk_escalation_tags", "helpdesk_comment"
)  # fmt: skip
JOBS_PER_BATCH = 25  # update_many jobs queued together and polled together


def load_org_fields(path: Path | str | None = None) -> WriteFields:
    """The organization fields pulsehub writes, from YAML; a bad file names the key and fix."""
    source = Path(path) if path else FIELDS_PATH
    data = read_yaml(source, what="Zendesk field map", variable="the Zendesk fields file")
    if not isinstance(data, dict) or not isinstance(data.get("org_fields"), dict):
        raise ConfigError(f"{source}: expected `org_fields:` mapping — start from {FIELDS_PATH}")
    # a pulled organization keeps them under organization_fields (what reassert reads)
    return parse_write_fields(data["org_fields"], source, "org_fields", "organization_fields")


def write_kinds(fields: WriteFields) -> dict[str, WriteKind]:
    """In drain order: tickets are created before the comments that may refer to them."""
    batch = JOBS_PER_BATCH * UPDATE_MANY_LIMIT
    # tickets are read 10 batches at a time and cut into whole jobs of one tag change each
    tags = {"window": 10 * batch, "split": split_tag_jobs, "mark_in_flight": True}
    kinds: list[WriteKind] = [
        WriteKind(ORG_FIELDS, batch, mark_in_flight=True, entity="organization", fields=fields),
        WriteKind(TICKET_TAGS, batch, entity="ticket", **tags),  # type: ignore[arg-type]
        WriteKind(TICKET, 1),
        # escalation tags on a customer's tickets: the same jobs, the ticket named in the payload
        WriteKind(ESCALATION_TAGS, batch, **tags),  # type: ignore[arg-type]
        WriteKind(COMMENT, 1, mark_in_flight=True),
    ]
    return {k.name: k for k in kinds}


class ZendeskOutboxWriter:
    """`connectors.base.Writer` for Zendesk; refuses fields and tags outside its allow-lists."""

    def __init__(self, writes: ZendeskWriter, fields: WriteFields) -> None:
        self.writes = writes
        self.fields = fields
        self._kinds = write_kinds(fields)

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        if kind == ORG_FIELDS:
            return self._org_fields(items)
        if kind == TICKET_TAGS:
            return push_tags(self.writes, items, lambda i: int(i.target_id))
        if kind == ESCALATION_TAGS:
            return push_tags(self.writes, items, lambda i: int(i.payload["ticket_id"]))
        if kind == TICKET:
            return [self._ticket(i) for i in items]
        if kind == COMMENT:
            return [self._comment(i) for i in items]
        raise ValueError(f"Zendesk writes no {kind!r}")

    def _org_fields(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        """Logical fields -> organization field keys; an unmapped field is refused unsent."""

        def send(writes: list[tuple[WriteItem, dict[str, Any]]]) -> list[WriteResult]:
            updates = [OrgUpdate(id=int(item.target_id), fields=api) for item, api in writes]
            maybe = {u.id for u, (item, _) in zip(updates, writes, strict=True) if item.maybe_sent}
            return self.writes.update_organizations(updates, maybe)

        allowed = sorted(self.fields.fields)
        return push_fields(
            self.fields,
            items,
            send,
            lambda outside: (
                f"refused: organization fields {outside} are not in org_fields ({allowed})"
            ),
        )

    def _ticket(self, item: WriteItem) -> WriteResult:
        return self.writes.create_ticket(TicketCreate(**item.payload), item.idempotency_key())

    def _comment(self, item: WriteItem) -> WriteResult:
        p = item.payload
        if not p.get("helpdesk_ticket_id"):
            message = "the escalation's engineering ticket is not created yet"
            return WriteResult(target_id=item.target_id, ok=False, retriable=True, message=message)
        return self.writes.comment(
            int(p["helpdesk_ticket_id"]),
            p["body"],
            public=p.get("public", False),
            status=p.get("status"),
            key=item.idempotency_key(),
            maybe_sent=item.maybe_sent,
        )
