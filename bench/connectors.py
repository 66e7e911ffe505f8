"""Benchmark: records/s pulled per source from the sandbox into the database, and API calls
used versus the minimum possible (ceil(records / page size) for pulls, ceil(changed / 200)
and ceil(changed / 100) for writes).

Run by hand:  .venv/bin/python -m bench.connectors --accounts 300 [--db sqlite:///...]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from zenpy import Zenpy

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_records import AccountUpdate
from connectors.salesforce_source import CLIENT_OPTIONS
from connectors.usage import UsageConnector
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import OrgUpdate
from connectors.zendesk_transport import WindowLimiter
from model.db import make_engine, make_session_factory, upgrade
from sandbox import credentials as c  # here, so its ~50 ms import is outside timed pulls
from sync.pull import pull_stream, select_streams


class _Loopback(HTTPAdapter):
    """Send every https URL the vendor clients build to the plain-http sandbox."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.netloc = urlsplit(base_url).netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        u = urlsplit(request.url or "")
        request.url = u._replace(scheme="http", netloc=self.netloc).geturl()
        return super().send(request, **kwargs)


def _session(base_url: str) -> requests.Session:
    session = requests.Session()
    session.mount("https://", _Loopback(base_url))
    session.mount("http://", _Loopback(base_url))
    return session


def _salesforce(base_url: str, policy: RetryPolicy) -> SalesforceConnector:
    sf = Salesforce(
        session_id=c.SF_SESSION_ID,
        instance_url=f"https://{urlsplit(base_url).netloc}",
        session=_session(base_url),
        version=c.SF_API_VERSION,
        **CLIENT_OPTIONS,
    )
    return SalesforceConnector(sf, policy=policy, bulk_poll_wait=0.2)


def _zendesk(base_url: str, policy: RetryPolicy) -> ZendeskConnector:
    zenpy = Zenpy(
        subdomain=c.ZD_SUBDOMAIN,
        email=c.ZD_EMAIL,
        token=c.ZD_API_TOKEN,
        session=_session(base_url),
    )
    # the sandbox does not enforce 10/min on exports; the limiter would only add sleep
    return ZendeskConnector(zenpy, policy=policy, export_limiter=WindowLimiter(10_000, 60.0))


def _usage(base_url: str, policy: RetryPolicy) -> UsageConnector:
    usage = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {c.USAGE_BEARER_TOKEN}"}
    )
    return UsageConnector(usage, policy=policy)


BUILDERS = {"salesforce": _salesforce, "zendesk": _zendesk, "usage": _usage}


def build_connectors(base_url: str, systems: Iterable[str] = tuple(BUILDERS)) -> dict[str, Any]:
    """The connectors of `systems` on clients pointed at the sandbox (as the connectors' entry points do).

    A bench of one system builds only that system's client: an httpx client alone takes
    ~45 ms to build (TLS context), which is no part of a Salesforce or Zendesk pull.
    """
    policy = RetryPolicy()
    return {name: BUILDERS[name](base_url, policy) for name in systems}


def page_size(connector: Any) -> int:
    """Records per page of the connector's pulled streams (all of them paginate by it)."""
    return int(connector.page_size)


@contextmanager
def database(url: str | None) -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = url or f"sqlite:///{tmp}/bench.db"
        upgrade(db_url)
        yield make_session_factory(make_engine(db_url))


def bench_pulls(connectors: dict[str, Any], factory: Any) -> list[dict[str, Any]]:
    rows = []
    for planned in select_streams(connectors.values(), "all"):
        conn, stream = connectors[planned.source], planned.stream.name
        before, start = conn.calls, time.perf_counter()
        stored, rejected = pull_stream(factory, conn, stream)
        seconds = time.perf_counter() - start
        records = stored + rejected
        rows.append(
            {
                "stream": f"{planned.source}.{stream}",
                "records": records,
                "seconds": seconds,
                "rate": records / seconds if seconds else 0.0,
                "calls": conn.calls - before,
                "minimum": max(1, math.ceil(records / page_size(conn))),
            }
        )
    return rows


def bench_writes(connectors: dict[str, Any], factory: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from model.tables import Account, ExternalIdentity

    with factory() as session:
        sf_ids = [i for i in session.scalars(select(Account.crm_id)) if i]
        org_ids = [
            int(i)
            for i in session.scalars(
                select(ExternalIdentity.external_id).where(ExternalIdentity.source == "zendesk")
            )
        ]
    sf, zd = connectors["salesforce"], connectors["zendesk"]
    updates = [AccountUpdate(id=i, fields={"Health_Score__c": 42.0}) for i in sf_ids]
    sf._writer.account_fields.get()  # the one cached describe, so only collection calls are counted
    org_updates = [OrgUpdate(id=i, fields={"health_status": "green"}) for i in org_ids]
    return [
        _timed_write(
            "salesforce account fields", len(updates), 200,
            lambda: sf.update_accounts(updates), lambda: sf.calls,
        ),
        _timed_write(
            "zendesk org fields (update_many)", len(org_updates), 100,
            lambda: zd.update_organizations(org_updates), lambda: _count(zd, "PUT"),
        ),
    ]  # fmt: skip


def _timed_write(
    stream: str, records: int, per_call: int, write: Callable[[], Any], calls: Callable[[], int]
) -> dict[str, Any]:
    """One bulk write timed: how many succeeded, in how many calls, against the fewest possible."""
    before, start = calls(), time.perf_counter()
    ok = sum(r.ok for r in write())
    return {
        "stream": stream,
        "records": records,
        "ok": ok,
        "seconds": time.perf_counter() - start,
        "calls": calls() - before,
        "minimum": math.ceil(records / per_call),
    }


def _count(zd: ZendeskConnector, method: str) -> int:
    return zd.transport.method_calls.get(method, 0)


def report(pulls: list[dict[str, Any]], writes: list[dict[str, Any]]) -> str:
    lines = [f"{'stream':34} {'records':>8} {'rec/s':>9} {'calls':>6} {'min':>5}"]
    for r in pulls:
        lines.append(
            f"{r['stream']:34} {r['records']:>8} {r['rate']:>9.0f} "
            f"{r['calls']:>6} {r['minimum']:>5}"
        )
    lines.append("")
    lines.append(f"{'write':34} {'records':>8} {'ok':>6} {'calls':>6} {'min':>5}")
    for r in writes:
        lines.append(
            f"{r['stream']:34} {r['records']:>8} {r['ok']:>6} {r['calls']:>6} {r['minimum']:>5}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args(argv)
    from sandbox import Sandbox

    with Sandbox(accounts=args.accounts, seed=args.seed) as sb, database(args.db) as factory:
        connectors = build_connectors(sb.base_url)
        pulls = bench_pulls(connectors, factory)
        writes = bench_writes(connectors, factory)
        sb.advance(days=1)  # one simulated day of changes, then an incremental run
        incremental = bench_pulls(connectors, factory)
    print(f"sandbox: {args.accounts} accounts, seed {args.seed}")
    print(report(pulls, writes))
    print("\nincremental run after one simulated day (from the saved cursors):")
    print(report(incremental, []).split("\n\n")[0])


if __name__ == "__main__":
    main()
