"""Every page and endpoint renders on SQLite and on real PostgreSQL, with the key numbers shown."""

from __future__ import annotations

import pytest

from model.db import make_engine, make_session_factory, transaction, upgrade
from pulsehub.web.app import create_app
from reporting.overview import load_overview
from tests.web.conftest import OPERATOR_TOKEN, VIEWER_TOKEN, client_for, web_settings
from tests.web.factories import fill

PAGES = ["/", "/accounts", "/accounts?band=red&sort=risk&desc=false", "/accounts?q=acme&segment=smb",
         "/accounts/3", "/support", "/adoption", "/ops", "/ops/identities", "/ops/overrides",
         "/ops/audit", "/api/overview", "/api/accounts/3", "/metrics"]  # fmt: skip


@pytest.fixture
def filled_app(any_db_url):  # type: ignore[no-untyped-def]
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        fill(session, 40, snapshot_days=29, usage_days=14)
    yield create_app(web_settings(any_db_url), factory), factory
    engine.dispose()


def test_every_page_renders_on_both_databases(filled_app):
    app, factory = filled_app
    client = client_for(app, OPERATOR_TOKEN)
    for path in PAGES:
        r = client.get(path, headers={"accept": "text/html"})
        assert r.status_code == 200, (path, r.text[:500])
    with factory() as s:
        ov = load_overview(s)
    html = client.get("/", headers={"accept": "text/html"}).text
    assert f'data-testid="band-red">{ov.bands["red"]}<' in html
    assert f'data-testid="renewals-90">{ov.renewals[2].accounts}<' in html
    api = client.get("/api/overview").json()
    assert api["bands"] == ov.bands and api["band_changes_7d"] == ov.movers_total


def test_account_page_shows_what_was_written_and_identity_links(app_parts):
    app, _, _ = app_parts
    html = client_for(app, OPERATOR_TOKEN).get("/accounts/1", headers={"accept": "text/html"}).text
    written = html[html.index('data-testid="written"') :]
    assert "salesforce account <code>001000000000000001</code>" in written
    assert "Health_Band__c" in written and ">green<" in written
    links = html[html.index('data-testid="identities"') :]
    assert "<code>9001</code>" in links and "external_id" in links  # the Zendesk org link


def test_an_unknown_account_is_a_json_404_on_the_api(read_only_app) -> None:
    r = client_for(read_only_app, VIEWER_TOKEN).get("/api/accounts/99999")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"detail": "no account with id 99999"}


def test_a_bad_query_value_on_a_page_is_a_readable_400(read_only_app) -> None:
    client = client_for(read_only_app, VIEWER_TOKEN)
    r = client.get("/accounts?page=abc", headers={"accept": "text/html"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "Bad request" in r.text and "page:" in r.text and '{"detail"' not in r.text
    api = client.get("/api/accounts/abc")
    assert api.status_code == 422 and "detail" in api.json()
