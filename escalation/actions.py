"""What escalation asks `sync` to do: vendor-neutral, push-ready actions with stable keys.

Every `key` is derived from the escalation's dedup key, its episode (how many times it has
been opened) and the step, so a rerun produces the same keys and the outbox's unique `key`
drops the duplicate. `external_id` on an engineering ticket is derived the same way and is
what sync sends (with `Idempotency-Key = key`) so a retried create finds the first ticket.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_KEY = 255


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(max_length=MAX_KEY)
    escalation_id: int | None = None


class CreateEngineeringTicket(_Action):
    """A helpdesk problem/incident ticket for engineering, linking the customer's tickets."""

    kind: Literal["create_engineering_ticket"] = "create_engineering_ticket"
    account_id: int
    subject: str
    body: str
    tags: list[str]
    priority: Literal["urgent", "high", "normal", "low"]
    type: Literal["problem", "incident"]
    group_id: int | None = None
    ticket_form_id: int | None = None
    external_id: str = Field(max_length=MAX_KEY)
    linked_ticket_ids: list[int] = []


class CommentOnTicket(_Action):
    """A comment on the escalation's engineering ticket (update, resolution, request to close).

    `helpdesk_ticket_id` is set when the ticket id is already recorded; otherwise sync looks it up
    from `escalation_id` (the ticket may have been created by an earlier, unrecorded push).
    """

    kind: Literal["comment_on_ticket"] = "comment_on_ticket"
    helpdesk_ticket_id: int | None = None
    body: str
    public: bool = False
    status: Literal["open", "pending", "solved"] | None = None


class CreateOwnerTask(_Action):
    """A crm task for the account owner, on the account."""

    kind: Literal["create_owner_task"] = "create_owner_task"
    account_id: int
    account_crm_id: str | None = None
    owner_crm_id: str | None = None
    subject: str
    description: str
    due_date: date
    priority: Literal["High", "Normal", "Low"]


class TagCustomerTickets(_Action):
    """Add/remove tags on the account's open customer tickets (sync resolves which tickets)."""

    kind: Literal["tag_customer_tickets"] = "tag_customer_tickets"
    account_id: int
    add: list[str] = []
    remove: list[str] = []


class Notify(_Action):
    """POST `payload` as JSON to a generic webhook (e.g. a Slack incoming webhook)."""

    kind: Literal["notify"] = "notify"
    url: str
    payload: dict[str, Any]


Action = Annotated[
    CreateEngineeringTicket | CommentOnTicket | CreateOwnerTask | TagCustomerTickets | Notify,
    Field(discriminator="kind"),
]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

SYSTEM_OF = {
    "create_engineering_ticket": "helpdesk",
    "comment_on_ticket": "helpdesk",
    "tag_customer_tickets": "helpdesk",
    "create_owner_task": "crm",
    "notify": "notifier",
}


def system_of(action: Action) -> str:
    """The kind of system that carries out `action` (a connector kind): helpdesk, crm or notifier."""
    return SYSTEM_OF[action.kind]


def parse_action(payload: dict[str, Any]) -> Action:
    """Rebuild an action from its JSON form (e.g. an outbox payload)."""
    return ACTION_ADAPTER.validate_python(payload)


def action_key(dedup_key: str, episode: int, step: str) -> str:
    """`esc:<dedup key>#<episode>:<step>`, cut to fit the outbox's 255-char key."""
    suffix = f"#{episode}:{step}"
    return f"esc:{dedup_key}"[: MAX_KEY - len(suffix)] + suffix


def external_id(dedup_key: str, episode: int) -> str:
    """The engineering ticket's external_id in the helpdesk for one episode of an escalation."""
    return f"pulsehub:{dedup_key}#{episode}"[:MAX_KEY]
