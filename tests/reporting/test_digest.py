"""The weekly digest's content comes from committed state: band changes within the week, new
escalations opened in it, renewals in the next 90 days — per owner."""

from __future__ import annotations

import datetime as dt

from model.db import transaction
from model.tables import Escalation
from reporting.digest import build_digests, render_text
from sync.digest import week_ending
from tests.escalation import factories as f

WEEK_END = dt.date(2026, 6, 28)  # a Sunday: f.AS_OF (Tue 30 June) digests the week before


def _book(factory) -> None:
    with transaction(factory) as s:
        olivia_red = f.account(s, name="Falling Co", owner_email="olivia@example.com")
        f.snapshot(s, olivia_red, 9, "green", 80)  # on 21 June: the week's start
        f.snapshot(s, olivia_red, 2, "red", 35)  # on 28 June
        steady = f.account(s, name="Steady Co", renewal_date=WEEK_END + dt.timedelta(days=30))
        f.snapshot(s, steady, 9, "green", 82)
        f.snapshot(s, steady, 2, "green", 84)
        f.account(s, name="Far Co", renewal_date=WEEK_END + dt.timedelta(days=200))
        s.add(Escalation(dedup_key="k1", account_id=olivia_red.id, rule="band_red",
                         severity="sev2", state="open", title="Falling Co: fell to red",
                         opened_at=dt.datetime(2026, 6, 25, 10, tzinfo=dt.UTC)))  # fmt: skip
        s.add(Escalation(dedup_key="k0", account_id=steady.id, rule="band_red", severity="sev3",
                         state="open", title="old news",
                         opened_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))  # fmt: skip
        quiet = f.account(s, name="Quiet Co", owner_name="Quentin Quiet")
        f.snapshot(s, quiet, 2, "green", 90)


def test_a_digest_holds_the_weeks_changes_escalations_and_renewals(factory) -> None:
    _book(factory)
    assert week_ending(f.AS_OF) == WEEK_END
    with factory() as s:
        digests = {d.owner: d for d in build_digests(s, WEEK_END)}
    olivia, quentin = digests["Olivia Owner"], digests["Quentin Quiet"]
    assert olivia.email == "olivia@example.com" and olivia.accounts == 3
    assert [(c.account, c.before, c.after) for c in olivia.band_changes] == [
        ("Falling Co", "green", "red")
    ]
    assert olivia.new_escalations == [("sev2", "Falling Co", "Falling Co: fell to red")]
    assert [name for name, _, _ in olivia.renewals] == ["Steady Co"]
    assert quentin.empty and not olivia.empty
    text = render_text(olivia)
    assert (
        "Falling Co: green -> red (score 35)" in text and "[SEV2] Falling Co: fell to red" in text
    )
    assert "old news" not in text and "Far Co" not in text


def test_one_owners_digest(factory) -> None:
    _book(factory)
    with factory() as s:
        assert [d.owner for d in build_digests(s, WEEK_END, owner="Quentin Quiet")] == [
            "Quentin Quiet"
        ]


def test_the_cli_previews_every_digest_and_sends_nothing(factory, migrated_url) -> None:
    import os
    import subprocess
    import sys

    from sqlalchemy import func, select

    from model.tables import OutboxItem

    _book(factory)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env.update(
        PULSEHUB_DATABASE_URL=migrated_url,
        PULSEHUB_DIGEST__SLACK_WEBHOOK_URL="http://127.0.0.1:9/x",
    )
    out = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "digest", "--dry-run", "--today", "2026-06-30"],
        env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (
        "Olivia Owner: Slack" in out.stdout and "Quentin Quiet: nothing new, not sent" in out.stdout
    )
    assert "Falling Co: green -> red" in out.stdout and "dry run: nothing sent" in out.stdout
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "digest", "--dry-run", "--today", "June"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "use YYYY-MM-DD" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
