"""Several sources of one kind in one run: which one is primary, and where records land.

Two helpdesk instances (an acquired company's) feed one model: their records are keyed by
source (model/tables.py), their organizations resolve to the same canonical accounts
(model/identity.py), each instance's writes go to that instance (sync/routes.py), and an
escalation ticket to the instance holding the account's most recent ticket
(sync/escalate.py `helpdesk_for_account`).

Two crm sources: the first crm source in the run's connectors is the primary (the wiring
puts a source configured `primary: true` first). Its accounts are the canonical accounts; a
secondary crm's accounts land as `crm_account` identities, resolved to the canonical account
of the same customer (model/crm_accounts.py) — or, matching none, owning an account of their
own; contacts and opportunities of every crm source point at their account either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connectors.base import Connector


def primary_crm(connectors: Iterable[Connector]) -> str | None:
    """The first crm source: the one whose accounts are the canonical accounts."""
    return next((c.name for c in connectors if c.kind == "crm"), None)


def sink_for(entity: str, source: str, connectors: Mapping[str, Connector]) -> str:
    """The sink a stream's records land in: a secondary crm's accounts become identities."""
    if entity == "account" and source != primary_crm(connectors.values()):
        return "crm_account"
    return entity


def field_sources(connectors: Iterable[Connector]) -> dict[str, str]:
    """Identity kind (organization | workspace) -> the first source feeding it: the one whose
    ids an account attribute (the crm's organization/workspace field) names."""
    out: dict[str, str] = {}
    for connector in connectors:
        for stream in connector.streams.values():
            out.setdefault(stream.entity, connector.name)
    return out
