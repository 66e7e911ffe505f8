"""Simulators of Salesforce REST, HubSpot CRM, Zendesk Support and a usage API over a synthetic
customer base.

Tests, the demo wiring and benchmarks import this; production code never does. A client written
for the real APIs runs against it unchanged through a transport redirect: each endpoint follows
the vendor's reference (Salesforce REST API developer guide: query, sObject Describe, OAuth
token response; Zendesk Support API reference: Tickets, Ticket Audits and audit events, Ticket
Comments, Satisfaction Ratings, incremental exports). The clock never runs behind real time
unless started at a fixed moment (`Sandbox(now=...)`, `sandbox serve --clock ISO`).

Still simplified (details in each module's docstring):
- Salesforce: a SOQL subset (no subqueries, GROUP BY or aggregates but COUNT()); five objects;
  describe has one record type and no layouts or quick actions behind its `urls`; the token
  response's instance URL is one fixed My Domain (`credentials.SF_INSTANCE_URL`) unless a proxy
  sends X-Forwarded-Host; no triggers, validation or duplicate rules on writes.
- Zendesk: a generated ticket's audit history is its creation audit alone (built from its
  current fields, status `new`); audits carry no Notification, SLA or trigger events; no
  account-wide `ticket_audits.json`; comments have no attachments; an unoffered rating exists
  for each solved ticket that never sent a survey, and every received rating has a comment;
  list cursors encode positions, so a record deleted between pages shifts the next page.
- HubSpot: a view of the Salesforce objects (one customer base), one deal pipeline, only the
  properties pulsehub reads or writes; search ties come back in id order; search is indexed
  at once (HubSpot's trails writes by seconds); `sandbox.hubspot_*`.
- Injected bad records (a null Id, a value of the wrong type, no `updated_at`) are served as
  stored; a filter cannot apply to a wrong-typed value, so that record does not match it.
"""

from sandbox.cli import cli_main
from sandbox.core import Sandbox
from sandbox.faults import Faults
from sandbox.limits import Limits

__all__ = ["Faults", "Limits", "Sandbox", "cli_main"]
