"""Identity resolution on the sandbox's synthetic base, checked against its hidden truth."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from model.db import upgrade
from model.tables import Account, ExternalIdentity
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox

STREAMS = (("salesforce", "accounts"), ("zendesk", "organizations"), ("usage", "workspaces"))


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('identity') / 'id.db'}"
    upgrade(url)
    with Sandbox(accounts=300, seed=21) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url))
        from model.db import transaction
        from model.identity import resolve_identities
        from sync import runs
        from sync.pull import history_start, pull, select_streams
        from sync.report import RunReport

        planned = select_streams(rt.connectors.values(), "all")
        wanted = [p for p in planned if (p.source, p.stream.name) in STREAMS]
        report = RunReport(run_id=runs.start_run(rt.factory, "sync"), dry_run=False)
        start = history_start(dt.date.today())
        pull(rt.factory, rt.connectors, wanted, report, reconcile=False, start=start)
        with transaction(rt.factory) as session:
            report.identity = resolve_identities(session)
        assert not report.errors
        with rt.factory() as s:
            sf_of = dict(s.execute(select(Account.id, Account.crm_id)).all())
            idents = list(s.execute(select(ExternalIdentity)).scalars())
        rt.close()
        yield {"truth": sb.world.truth, "sf_of": sf_of, "idents": idents, "report": report}


def _true_account(truth, ident) -> str | None:
    if ident.source == "zendesk":
        return dict(truth["org_account"]).get(int(ident.external_id))
    return dict(truth["workspace_account"]).get(ident.external_id)


def test_explicit_links_are_never_wrong_and_most_records_link(resolved) -> None:
    truth, sf_of, idents = resolved["truth"], resolved["sf_of"], resolved["idents"]
    by_method: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for ident in idents:
        label = ident.method if ident.status == "linked" else ident.status
        by_method[f"{ident.source}:{label}"] += 1
        if ident.status == "linked" and sf_of[ident.account_id] != _true_account(truth, ident):
            wrong[f"{ident.source}:{ident.method}"] += 1
    explicit = {k: n for k, n in wrong.items() if k.endswith((":external_id", ":field"))}
    assert explicit == {}, f"wrong explicit links: {explicit}"
    total = len(idents)
    linked = sum(1 for i in idents if i.status == "linked")
    assert linked / total >= 0.85, by_method
    fuzzy_wrong = sum(wrong.values())
    assert fuzzy_wrong <= 0.02 * total, wrong
    print("links per method:", dict(sorted(by_method.items())), "wrong:", dict(wrong))


def test_ambiguous_records_are_kept_with_their_candidates(resolved) -> None:
    idents = resolved["idents"]
    ambiguous = [i for i in idents if i.status == "ambiguous"]
    assert ambiguous, "the synthetic base has ambiguous organizations; they must be listed"
    for i in ambiguous:
        assert i.account_id is None and len(i.candidates) >= 2
    truth_dupes = {a for pair in resolved["truth"]["duplicate_accounts"] for a in pair}
    sf_of = resolved["sf_of"]
    assert any({sf_of[c] for c in i.candidates} & truth_dupes for i in ambiguous) or not truth_dupes
