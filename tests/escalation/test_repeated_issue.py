"""The repeated-issue trigger: similar tickets or a shared customer tag, judged against the
account's own history and, optionally, the book's norm for the topic."""

from __future__ import annotations

from tests.escalation import factories as f
from tests.escalation.factories import fired, with_rule


def test_repeated_issue_links_three_similar_tickets(session, config):
    acc = f.account(session)
    f.snapshot(session, acc, 0, "green", 80)
    ids = [
        f.ticket(session, acc, "SSO login fails for all users", days_ago=20).helpdesk_id,
        f.ticket(session, acc, "SSO login fails again", days_ago=10, status="solved").helpdesk_id,
        f.ticket(session, acc, "Login fails with SSO", days_ago=2).helpdesk_id,
    ]
    f.ticket(session, acc, "Invoice address change", days_ago=3)
    f.ticket(session, acc, "SSO login fails (old)", days_ago=100)  # before the baseline
    (d,) = [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]
    assert d.ticket_ids == ids
    assert d.reason == "repeat_subj-fails-login"


def test_repeated_issue_by_shared_tag_and_not_by_generic_tags(session, config):
    acc = f.account(session)
    for i, subject in enumerate(["Report slow", "Cannot open dashboard", "Charts blank"]):
        f.ticket(session, acc, subject, days_ago=i + 1, tags=["reporting", "urgent"])
    (d,) = [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]
    assert d.reason == "repeat_tag-reporting"
    other = f.account(session)
    for i, subject in enumerate(["Report slow", "Cannot open dashboard", "Charts blank"]):
        f.ticket(session, other, subject, days_ago=i + 1, tags=["urgent", "web"])
    assert not [d for d in fired(session, config, other).values() if d.rule == "repeated_issue"]


def test_tags_pulsehub_wrote_never_make_a_repeated_issue(session, config):
    """Write-back tags every open ticket of an account with its health band and renewal risk;
    that shared tag joined unrelated tickets into one "repeated issue" (10,000-account bench:
    133 false engineering tickets in the sync after the first write-back)."""
    acc = f.account(session)
    f.snapshot(session, acc, 0, "yellow", 60)
    written = ["health_yellow", "renewal_risk_low", "at_risk_account"]
    band_red = config.rules["band_red"]  # a team's own rule tag, not prefixed like pulsehub's
    band_red = band_red.model_copy(update={"tags": [*band_red.tags, "at_risk_account"]})
    config = config.model_copy(update={"rules": {**config.rules, "band_red": band_red}})
    for i, subject in enumerate(["Report slow", "Cannot change permissions", "Invoice copy"]):
        f.ticket(session, acc, subject, days_ago=i + 1, tags=written)
    assert not [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]
    # a real shared topic still fires, and its evidence does not list pulsehub's tags
    other = f.account(session)
    f.snapshot(session, other, 0, "yellow", 60)
    for i, subject in enumerate(["Report slow", "Cannot open dashboard", "Charts blank"]):
        f.ticket(session, other, subject, days_ago=i + 1, tags=["reporting", *written])
    (d,) = [d for d in fired(session, config, other).values() if d.rule == "repeated_issue"]
    assert d.reason == "repeat_tag-reporting"


def test_steady_topic_on_a_busy_account_is_not_a_repeated_issue(session, config):
    acc = f.account(session)
    for day in range(2, 120, 4):  # a login ticket every 4 days for four months: usual
        f.ticket(session, acc, "Users cannot log in with SSO", days_ago=day, tags=["login", "sso"])
    assert not [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]
    for day in range(1, 13):  # now 19 in a month against a usual 7.5
        f.ticket(session, acc, "Users cannot log in with SSO", days_ago=day, tags=["login", "sso"])
    (d,) = [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]
    assert d.reason == "repeat_tag-login"
    assert d.evidence["usual_in_window"] == 7.5  # 15 in the 60 days before the window
    assert len(d.ticket_ids) == 19


def test_how_to_questions_are_not_an_engineering_problem(session, config):
    acc = f.account(session)
    for i in range(4):
        f.ticket(session, acc, "How do I configure exports?", days_ago=i + 1, tags=["how_to"])
    assert not [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]


def test_one_earlier_ticket_on_the_problem_raises_the_bar(session, config):
    acc = f.account(session)
    for days in (20, 10, 2):
        f.ticket(session, acc, "SSO login fails for all users", days_ago=days)
    f.ticket(session, acc, "SSO login fails for all users", days_ago=45)  # in the baseline
    assert not [d for d in fired(session, config, acc).values() if d.rule == "repeated_issue"]


def test_a_topic_the_whole_book_files_is_not_one_accounts_repeated_issue(session, config):
    for _ in range(3):  # peers: a login ticket every other day is the norm here
        peer = f.account(session)
        for day in range(1, 85, 2):
            f.ticket(session, peer, "Users cannot log in", days_ago=day, tags=["login"])
    acc = f.account(session)
    for day in (20, 12, 6, 2):
        f.ticket(session, acc, "Users cannot log in", days_ago=day, tags=["login"])
    on = with_rule(config, "repeated_issue", book_norm=True)
    off = with_rule(config, "repeated_issue", book_norm=False)
    assert "repeat_tag-login" in fired(session, off, acc)
    assert "repeat_tag-login" not in fired(session, on, acc)


def test_a_topic_rare_in_the_book_still_fires_with_the_book_norm(session, config):
    peer = f.account(session)
    for day in range(1, 85, 2):
        f.ticket(session, peer, "Pages are slow", days_ago=day, tags=["performance"])
    acc = f.account(session)
    for day in (20, 12, 6, 2):
        f.ticket(session, acc, "Users cannot log in", days_ago=day, tags=["login"])
    on = with_rule(config, "repeated_issue", book_norm=True)
    d = fired(session, on, acc)["repeat_tag-login"]
    assert d.evidence["book_norm_in_window"] == 0.0
