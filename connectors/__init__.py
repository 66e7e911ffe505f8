"""Connectors: one module per system, each taking an injected client and yielding typed pages.

Public entry points: `SalesforceConnector`, `ZendeskConnector`, `UsageConnector` (pull +
writes), the shapes in `connectors.records`, the errors in `connectors.errors` and the
single retry/classification policy in `connectors.http`.
"""
