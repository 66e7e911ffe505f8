"""What identity matching reads, so that a change of anything else does not re-match.

Identity resolution after a first run matches only the identities that can get another
answer (model/identity_scope.py): those whose own matched fields changed, and those an
account's changed keys can reach. It went by `updated_at`, which any change of content
moves: every organization whose custom fields pulsehub wrote (health, risk) came back from
the next pull changed, and every crm account whose fields it wrote came back with a new
modstamp (and, with `read_back_fields`, new values among its attributes), so the run after a
write-back matched again every identity it had written to and every one its accounts reach
(at 400 accounts 572 of 728 identities; at 50,000 accounts 36.5 s).

`match_changed_at` moves only when a field matching reads changed:

- identities: name, domains, crm id hint, kind and deletion (`model.identity.match` reads no
  `attributes`);
- accounts: crm id, name, domain, deletion and the attribute naming an organization or a
  workspace (`model.identity.AccountIndex`), not the other attributes nor the modstamp.

The upsert (model/upsert.py) compares these fields of a row it updates and keeps the stamp
when they are the same; any other update (a decision, a retirement, an erasure) moves it by
its `onupdate`, so a path that forgets about it errs on the side of matching again.
"""

from __future__ import annotations

STAMP_ON_CHANGE = "stamp_on_change"  # Table.info key: {stamp column: fields it follows}
MATCH_CHANGED_AT = "match_changed_at"
IDENTITY_MATCH_FIELDS = ("kind", "name", "domains", "hint_crm_id", "is_deleted")
# "attributes.KEY": that key of the JSON column (ACCOUNT_ATTRIBUTE_FOR_KIND's values)
ACCOUNT_MATCH_FIELDS = (
    "crm_id",
    "name",
    "domain",
    "is_deleted",
    "attributes.organization_id",
    "attributes.workspace_id",
)
