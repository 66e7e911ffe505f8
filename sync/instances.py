"""Several sources of one kind in one run: what is allowed, and which source is primary.

Two helpdesk instances (an acquired company's) feed one model: their records are keyed by
source (model/tables.py), their organizations resolve to the same canonical accounts
(model/identity.py), each instance's writes go to that instance (sync/routes.py), and an
escalation ticket to the instance holding the account's most recent ticket
(sync/escalate.py `helpdesk_for_account`).

Two crm sources in one run are still refused: accounts are the crm's records, and merging
two orgs' accounts into one canonical account (a primary org owning the record) is not built.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.base import Connector
from connectors.errors import ConfigError

# kinds a run takes one source of: the canonical account is one crm's record
ONE_PER_RUN = ("crm",)


def check_sources(connectors: Iterable[Connector]) -> None:
    """Refuse two crm sources in one run (several helpdesk or usage sources are fine: their
    ids are keyed by source name, and names are unique — pulsehub/sources.py checks)."""
    connectors = list(connectors)
    for kind in ONE_PER_RUN:
        names = [c.name for c in connectors if c.kind == kind]
        if len(names) > 1:
            raise ConfigError(
                f"sources {', '.join(repr(n) for n in names)} are all {kind} sources: a run "
                f"takes one {kind} source (its accounts are the canonical ones) — remove the "
                "others from PULSEHUB_SOURCES / PULSEHUB_SOURCES_FILE or run each with its own "
                "database"
            )


def field_sources(connectors: Iterable[Connector]) -> dict[str, str]:
    """Identity kind (organization | workspace) -> the first source feeding it: the one whose
    ids an account attribute (the crm's organization/workspace field) names."""
    out: dict[str, str] = {}
    for connector in connectors:
        for stream in connector.streams.values():
            out.setdefault(stream.entity, connector.name)
    return out
