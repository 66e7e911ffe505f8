"""Page timings on a large book: `python -m tests.web.bench_pages [ACCOUNTS] [DB_URL]` (run by hand).

Fills a database (once; reused when it already has accounts), then requests every page a few
times through the ASGI app and prints the median and worst time per page. Not a timed test.
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import func, select

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account
from pulsehub.web.app import create_app
from tests.web.conftest import OPERATOR_TOKEN, client_for, web_settings
from tests.web.factories import fill

PAGES = ("/", "/accounts", "/accounts?band=red&sort=risk", "/accounts/1", "/support", "/adoption",
         "/ops", "/ops/identities", "/ops/overrides", "/metrics", "/api/overview")  # fmt: skip


def main(n: int = 10_000, url: str = "sqlite:////tmp/pulsehub-bench.db", rounds: int = 5) -> None:
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        have = session.scalar(select(func.count()).select_from(Account)) or 0
    if not have:
        t = time.perf_counter()
        with transaction(factory) as session:
            fill(session, n, tickets_per_account=3, usage_days=35)
        print(f"filled {n} accounts in {time.perf_counter() - t:.0f}s")
    client = client_for(create_app(web_settings(url), factory), OPERATOR_TOKEN)
    print(f"{'page':34} {'median ms':>10} {'max ms':>8}")
    for page in PAGES:
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            r = client.get(page, headers={"accept": "text/html"})
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (page, r.status_code)
        print(f"{page:34} {statistics.median(times):10.0f} {max(times):8.0f}")


if __name__ == "__main__":
    main(*(int(a) if a.isdigit() else a for a in sys.argv[1:]))  # type: ignore[arg-type]
