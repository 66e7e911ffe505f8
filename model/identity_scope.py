"""Which identities a later resolution must match again: those that can get another answer
since the last committed resolution (model/identity.py `resolve_identities`).

`match` is a pure function of the identity's own fields and of the account index, so an
identity's answer moves only when:

- the identity changed: new, or re-read with other matched fields (`match_changed_at`,
  moved by the pull's upsert only when a field matching reads changed, not by its custom
  fields: model/match_fields.py), or decided by someone;
- an account it reads changed (`match_changed_at`: added, soft-deleted, renamed, another
  domain, crm id or organization/workspace attribute; not its modstamp nor other fields).
  The identities whose answer read the account as it *was* are linked to it or hold it
  among their candidates (ambiguous): an account that matched an identity either won it or
  made it ambiguous. The identities its values *now* can reach are found by those values:
  the crm key in their hint, the attribute naming them, one of their domains, their
  normalized name (a word of it pre-filters in SQL, Python confirms);
- an account was hard-deleted (an erasure): its linked identities went with it; ambiguous
  ones naming it among their candidates are matched again (every ambiguous identity's
  candidates are checked against the live accounts: the review queue, a small set).

The mark (cursor `identity:resolve`: a key of what the resolution is configured with, and
the watermark) is saved in the resolution's transaction: a crashed or dry run leaves the
last committed one. The watermark is the wall clock when the resolution started less the
marks' margin (rows are stamped before their transaction commits: model/marks.py).
Without a mark, with another configuration, or with `full_relink`, every identity is matched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from model import marks
from model.tables import Account, ExternalIdentity

MARK_STREAM = "identity:resolve"
IN_CHUNK = 500
FULL_SHARE = 0.25  # of live accounts changed, beyond which every identity is matched
FULL_AT_LEAST = 1000  # ... and at least this many (fewer: the scoped look-ups are cheap)


def mark_key(kinds: Iterable[str], field_sources: Mapping[str, str] | None) -> str:
    text = json.dumps([sorted(kinds), sorted((field_sources or {}).items())])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ResolveMark:
    """`key`: what the resolution was configured with; `since`: its watermark (ISO)."""

    key: str
    since: str


def read_since(session: Session, key: str) -> dt.datetime | None:
    """The watermark of the last committed resolution with this `key` (None: match all)."""
    mark = marks.read_mark(session, MARK_STREAM, ResolveMark)
    if mark is None or mark.key != key:
        return None
    try:
        return dt.datetime.fromisoformat(mark.since)
    except ValueError:
        return None


def save_mark(session: Session, key: str, started: dt.datetime) -> None:
    marks.save_mark(session, MARK_STREAM, ResolveMark(key, marks.watermark(started).isoformat()))


def to_relink(
    session: Session,
    kinds: Sequence[str],
    since: dt.datetime,
    attributes: Mapping[str, str],
) -> set[int] | None:
    """Ids of the non-manual identities of `kinds` that can get another answer since `since`
    (`attributes`: identity kind -> the account attribute naming one); None when more than
    `FULL_SHARE` of the live accounts changed (a write-back to every account, a re-import):
    then matching every identity costs less than finding which ones to match (a settle after
    a write-back to 10,000 accounts spent 117 s in the scoped look-ups)."""
    from model.identity import crm_key, normalize_name

    live_n = session.scalar(select(func.count()).where(Account.is_deleted.is_(False))) or 0
    moved = _moved(Account, since)
    changed_n = session.scalar(select(func.count()).where(moved)) or 0
    if changed_n > max(FULL_SHARE * live_n, FULL_AT_LEAST):
        return None
    t = ExternalIdentity
    mine = [t.kind.in_(kinds), t.manual.is_(False)]
    base = select(t.id).where(*mine)
    out: set[int] = set(session.scalars(base.where(_moved(t, since))))
    accounts = session.execute(
        select(Account.id, Account.crm_id, Account.domain, Account.name, Account.attributes).where(
            moved
        )
    ).all()
    changed = {a.id for a in accounts}
    for chunk in _chunks(sorted(changed)):
        out.update(session.scalars(base.where(t.account_id.in_(chunk))))
    out |= _ambiguous_touched(session, mine, changed)
    alive = _live(session, changed)  # once: not per account (that was O(changed²) queries)
    live = [a for a in accounts if a.id in alive]
    keys = sorted({k for a in live if (k := crm_key(a.crm_id))})
    for chunk in _chunks(keys):
        out.update(session.scalars(base.where(func.substr(t.hint_crm_id, 1, 15).in_(chunk))))
    for kind, attr in attributes.items():
        named = sorted({str(v) for a in live if (v := (a.attributes or {}).get(attr))})
        for chunk in _chunks(named):
            out.update(session.scalars(base.where(t.kind == kind, t.external_id.in_(chunk))))
    domains = sorted({a.domain.lower() for a in live if a.domain})
    text = func.lower(cast(t.domains, Text))
    for chunk in _chunks(domains, 50):
        found = [text.contains(f'"{d}"', autoescape=True) for d in chunk]
        found += [text.contains(f'"www.{d}"', autoescape=True) for d in chunk]
        out.update(session.scalars(base.where(or_(*found))))
    names = {n for a in live if (n := normalize_name(a.name))}
    words = sorted({max(n.split(), key=len) for n in names})
    for chunk in _chunks(words, 50):
        like = or_(*[func.lower(t.name).contains(w, autoescape=True) for w in chunk])
        for ident_id, name in session.execute(select(t.id, t.name).where(*mine, like)):
            if normalize_name(name) in names:
                out.add(ident_id)
    return out


def _moved(model: Any, since: dt.datetime) -> Any:
    """Rows whose matched fields changed since `since` (`match_changed_at`, which a change of
    anything else leaves: model/match_fields.py); a row without the stamp counts as changed."""
    return or_(model.match_changed_at.is_(None), model.match_changed_at > since)


def _ambiguous_touched(session: Session, mine: list[Any], changed: set[int]) -> set[int]:
    """Ambiguous identities with a changed or no longer live account among their candidates."""
    t = ExternalIdentity
    rows = session.execute(select(t.id, t.candidates).where(*mine, t.status == "ambiguous")).all()
    named = {int(c) for _, cands in rows for c in cands or []}
    alive = _live(session, named)
    return {
        i for i, cands in rows if any(int(c) in changed or int(c) not in alive for c in cands or [])
    }


def _live(session: Session, ids: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(sorted(ids)):
        out.update(
            session.scalars(
                select(Account.id).where(Account.id.in_(chunk), Account.is_deleted.is_(False))
            )
        )
    return out


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
