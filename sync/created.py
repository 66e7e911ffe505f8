"""What a pushed creation leaves behind: the escalation learns the ticket or task it created."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import Escalation, OutboxItem, VoiceAlert

if TYPE_CHECKING:  # outbox_results records results through this module
    from sync.outbox_results import OutboxEntry


def link_created(session: Session, item: OutboxEntry, created_id: str | None) -> None:
    """Remember on the escalation (or feedback-theme alert) which engineering ticket / owner
    task its push created."""
    if item.kind == "crm_task" and created_id is not None:
        alert = session.scalar(select(VoiceAlert).where(VoiceAlert.outbox_key == item.key))
        if alert is not None:
            alert.crm_task_id = str(created_id)
            return
    esc_id = (item.payload.get("_meta") or {}).get("escalation_id")
    if esc_id is None or created_id is None:
        return
    from escalation.lifecycle import record_pushed

    esc = session.get(Escalation, esc_id)
    if esc is None:
        return
    if item.kind == "helpdesk_ticket" and str(created_id).isdigit():
        record_pushed(esc, helpdesk_ticket_id=int(created_id), helpdesk_source=item.system)
        # comments queued before the ticket existed can now name it (and its instance)
        for pending in session.execute(
            select(OutboxItem).where(
                OutboxItem.kind == "helpdesk_comment", OutboxItem.status == "pending"
            )
        ).scalars():
            meta = pending.payload.get("_meta") or {}
            if meta.get("escalation_id") == esc_id and not pending.payload.get(
                "helpdesk_ticket_id"
            ):
                pending.payload = {**pending.payload, "helpdesk_ticket_id": int(created_id)}
                pending.system = item.system
    elif item.kind == "crm_task":
        record_pushed(esc, crm_task_id=str(created_id))
