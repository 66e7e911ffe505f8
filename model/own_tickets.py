"""The helpdesk tickets pulsehub itself opened (engineering escalation tickets).

They are filed under the customer's organization, so once the next pull brings them back they
look like the customer's own urgent tickets: counted as support load they would lower the
health that opened them, and the next run would escalate on its own ticket. Whatever reads
tickets as the customer's signal leaves them out. Which tickets they are is committed state:
each escalation records the ticket it opened and the helpdesk source that holds it.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, and_, not_, select, true
from sqlalchemy.orm import Session

from model.tables import Escalation, Ticket


def customer_tickets(session: Session) -> ColumnElement[bool]:
    """A WHERE clause on `Ticket` keeping every ticket but those escalations opened.

    The escalations' tickets are read first (a few hundred ids at most), so the clause is a
    plain NOT IN per source rather than a correlated subquery over every ticket."""
    opened: dict[str | None, list[int]] = defaultdict(list)
    for source, ticket_id in session.execute(
        select(Escalation.helpdesk_source, Escalation.helpdesk_ticket_id).where(
            Escalation.helpdesk_ticket_id.is_not(None)
        )
    ):
        if ticket_id is not None:
            opened[source].append(ticket_id)
    if not opened:
        return true()
    clauses = [
        not_(
            and_(Ticket.helpdesk_id.in_(ids), Ticket.source == source)
            if source is not None
            else Ticket.helpdesk_id.in_(ids)  # recorded before tickets were keyed by source
        )
        for source, ids in opened.items()
    ]
    return and_(*clauses)
