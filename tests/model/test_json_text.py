"""Tag lists read as JSON text: each distinct text decoded once, odd values give no tags."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from model.json_text import ListCache, as_text, decode_list
from model.tables import Base, Ticket, utcnow


def test_decode_list_caches_and_tolerates_odd_values() -> None:
    cache: ListCache = {}
    first = decode_list('["sso", "login"]', cache)
    assert first == ("sso", "login")
    assert decode_list('["sso", "login"]', cache) is first  # decoded once
    assert decode_list(None, cache) == ()
    assert decode_list("null", cache) == ()
    assert decode_list('{"a": 1}', cache) == ()
    assert decode_list("[not json", cache) == ()


def test_as_text_reads_the_stored_json() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        now = utcnow()
        s.add(
            Ticket(
                source="zendesk",
                helpdesk_id=1,
                status="open",
                tags=["a", "b"],
                created_at=now,
                updated_at=now,
            )
        )
        s.add(
            Ticket(
                source="zendesk",
                helpdesk_id=2,
                status="open",
                tags=[],
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
        cache: ListCache = {}
        rows = s.execute(
            select(Ticket.helpdesk_id, as_text(Ticket.tags)).order_by(Ticket.helpdesk_id)
        )
        assert [(i, decode_list(raw, cache)) for i, raw in rows] == [(1, ("a", "b")), (2, ())]
