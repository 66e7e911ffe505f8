"""Every overview number opens the list behind it, and that list holds exactly that many."""

from __future__ import annotations

import re
from html import unescape

from tests.web.conftest import VIEWER_TOKEN, client_for


def _total(html: str) -> int:
    m = re.search(r'data-testid="accounts-total">(\d+)<', html)
    assert m
    return int(m.group(1))


def test_kpi_cards_and_renewal_windows_link_to_their_accounts(app_parts) -> None:
    app, _, _ = app_parts
    client = client_for(app, VIEWER_TOKEN)
    page = client.get("/").text
    for key in ("green", "yellow", "red", "insufficient_data", "unscored", "churned"):
        m = re.search(rf'<a href="([^"]+)"><span data-testid="band-{key}">(\d+)<', page)
        assert m and m.group(1), key
        assert _total(client.get(unescape(m.group(1))).text) == int(m.group(2)), key
    for days in (30, 60, 90):
        m = re.search(rf'<a href="([^"]+)"><span data-testid="renewals-{days}">(\d+)<', page)
        assert m, days
        listed = client.get(unescape(m.group(1))).text
        assert _total(listed) == int(m.group(2)) and f"renewing in {days} days" in listed
    esc = re.search(r'<a href="(/escalations)"><span data-testid="open-escalations">(\d+)<', page)
    assert esc
    inbox = client.get(esc.group(1)).text
    assert re.search(rf"<p class=\"sub\">{esc.group(2)} escalation", inbox)


def test_chart_bars_open_the_accounts_and_escalations_behind_them(app_parts) -> None:
    app, _, _ = app_parts
    page = client_for(app, VIEWER_TOKEN).get("/").text
    assert 'class="bar-link"' in page and 'href="/accounts?band=red"' in page
    assert "/escalations?severity=" in page
