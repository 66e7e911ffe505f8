"""pulsehub's own ticket tags are recognised by prefix and by the names a config adds."""

from __future__ import annotations

from model.own_tags import customer_tags, is_own_tag, ticket_content_key, ticket_state_key
from sync.writeback import allowed_ticket_tags


def test_every_tag_write_back_may_write_is_own_except_the_severity_markers() -> None:
    # sev1..sev4 sit only on engineering tickets, which carry pulsehub_escalation too
    unprefixed = {t for t in allowed_ticket_tags() if not is_own_tag(t)}
    assert unprefixed == {"sev1", "sev2", "sev3", "sev4"}


def test_customer_tags_keeps_order_and_drops_own_and_configured() -> None:
    tags = ["sso", "health_yellow", None, "renewal_risk_low", "at_risk", "pulsehub_escalation", 7]
    assert customer_tags(tags) == ["sso", "at_risk", "7"]
    assert customer_tags(tags, frozenset({"at_risk"})) == ["sso", "7"]


def test_the_content_key_ignores_band_tags_and_nothing_else() -> None:
    key = ticket_content_key("Login loop", ["sso", "health_green"])
    assert 0 <= key < 2**31
    assert ticket_content_key("Login loop", ["sso", "health_red", "renewal_risk_high"]) == key
    assert ticket_content_key("Login loop", ["sso"]) == key
    assert ticket_content_key("Login loop", ["sso", "billing"]) != key  # a customer's tag
    assert ticket_content_key("Login loop", ["sso", "pulsehub_escalation"]) != key  # decides
    assert ticket_content_key("Login loops", ["sso"]) != key  # whether the ticket counts
    assert ticket_content_key(None, []) == ticket_content_key("", [])


def test_the_state_key_moves_with_each_state_field_and_only_with_them() -> None:
    key = ticket_state_key("open", "normal", "incident", None)
    assert ticket_state_key("open", "normal", "incident", None) == key
    for other in (
        ticket_state_key("hold", "normal", "incident", None),  # same length as "open"
        ticket_state_key("open", "urgent", "incident", None),
        ticket_state_key("open", "normal", "problem", None),
        ticket_state_key("open", "normal", "incident", "good"),
    ):
        assert other != key
    assert ticket_state_key("good", None, None, None) != ticket_state_key(None, None, None, "good")
    assert 0 <= key < 2**31
