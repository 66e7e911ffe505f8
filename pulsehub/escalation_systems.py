"""Where a by-hand resolution's writes go, from the settings alone (wiring, no client built)."""

from __future__ import annotations

from connectors.webhook import WebhookNotifier
from pulsehub.settings import Settings
from sync.escalate import EscalationSystems


def configured_systems(settings: Settings) -> EscalationSystems:
    """The configured built-in crm and helpdesk and the notifier, under the source names the
    runtime builds them with: resolving by hand only queues writes, so no client is built."""
    sources = {"notifier": WebhookNotifier.name}
    if settings.salesforce.configured:
        sources["crm"] = "salesforce"
    if settings.zendesk.configured:
        sources["helpdesk"] = "zendesk"
    return EscalationSystems(sources)
