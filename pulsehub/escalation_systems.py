"""Where a by-hand resolution's writes go, from the settings alone (wiring, no client built)."""

from __future__ import annotations

from connectors.webhook import WebhookNotifier
from pulsehub.settings import Settings
from pulsehub.sources import configured_sources
from sync.escalate import EscalationSystems

HELPDESK_CONNECTORS = ("zendesk",)  # entry points that build helpdesk sources


def configured_systems(settings: Settings) -> EscalationSystems:
    """The configured built-in crm and helpdesk and the notifier, under the source names the
    runtime builds them with: resolving by hand only queues writes, so no client is built."""
    sources = {"notifier": WebhookNotifier.name}
    if settings.salesforce.configured:
        sources["crm"] = "salesforce"
    # every helpdesk instance (their tickets' tags go to their own), a `primary: true` first
    more = [s for s in configured_sources(settings) if s.config.connector in HELPDESK_CONNECTORS]
    helpdesks = [s.config.name for s in more if s.primary]
    helpdesks += ["zendesk"] if settings.zendesk.configured else []
    helpdesks += [s.config.name for s in more if not s.primary]
    if helpdesks:
        sources["helpdesk"] = helpdesks[0]
    return EscalationSystems(sources, helpdesks=tuple(helpdesks))
