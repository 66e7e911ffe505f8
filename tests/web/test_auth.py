"""Access control: anonymous requests are refused, read-only users cannot act, forms need CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from model.tables import ExternalIdentity, OutboxItem, ScoreOverride
from pulsehub.web.auth import SESSION_COOKIE, Authenticator
from tests.web.conftest import OPERATOR_TOKEN, VIEWER_TOKEN, client_for, web_settings

PAGES = ["/", "/accounts", "/accounts/1", "/support", "/adoption", "/ops", "/ops/identities",
         "/ops/overrides", "/ops/audit"]  # fmt: skip
API = ["/api/overview", "/api/accounts/1", "/metrics"]
HTML = {"accept": "text/html"}


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_anonymous_browsers_to_login(read_only_app, path):
    app = read_only_app
    r = client_for(app).get(path, headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", API + PAGES)
def test_api_refuses_anonymous_and_wrong_tokens(read_only_app, path):
    app = read_only_app
    assert client_for(app).get(path).status_code == 401
    assert client_for(app, "not-a-token").get(path).status_code == 401


@pytest.mark.parametrize("path", API + PAGES)
def test_read_only_token_reads_everything(read_only_app, path):
    app = read_only_app
    assert client_for(app, VIEWER_TOKEN).get(path, headers=HTML).status_code == 200


def _counts(factory):
    with factory() as s:
        return (
            s.scalar(select(func.count()).where(OutboxItem.status == "dead")),
            s.scalar(select(func.count()).where(ExternalIdentity.manual.is_(True))),
            s.scalar(select(func.count()).select_from(ScoreOverride)),
        )


def test_read_only_role_cannot_act(app_parts):
    app, factory, book = app_parts
    before = _counts(factory)
    viewer = client_for(app, VIEWER_TOKEN)
    actions = [
        ("/ops/outbox/retry", {"item_id": str(book.dead_ids[0])}),
        (f"/ops/identities/{book.review_ids[0]}", {"decision": "accept", "account_id": "2"}),
        (
            "/ops/overrides",
            {"account_id": "1", "band": "green", "reason": "exec sponsor", "days": "30"},
        ),
    ]
    for path, form in actions:
        r = viewer.post(path, data=form)
        assert r.status_code == 403, path
    assert _counts(factory) == before
    page = viewer.get("/ops", headers=HTML).text
    assert 'data-testid="retry"' not in page


def test_operator_token_acts_without_csrf(app_parts):
    """Bearer requests are not ambient credentials, so no CSRF token is needed."""
    app, factory, book = app_parts
    r = client_for(app, OPERATOR_TOKEN).post(
        "/ops/outbox/retry", data={"item_id": str(book.dead_ids[0])}
    )
    assert r.status_code == 303
    with factory() as s:
        assert s.get(OutboxItem, book.dead_ids[0]).status == "pending"


def _login(client, token):
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/login", data={"token": token, "csrf_token": csrf, "next": "/ops"})


def test_cookie_login_needs_csrf_on_forms(app_parts):
    app, factory, book = app_parts
    browser = client_for(app)
    r = _login(browser, OPERATOR_TOKEN)
    assert r.status_code == 303 and r.headers["location"] == "/ops"
    page = browser.get("/ops", headers=HTML)
    assert page.status_code == 200
    dead = str(book.dead_ids[0])
    assert browser.post("/ops/outbox/retry", data={"item_id": dead}).status_code == 403
    bad = browser.post("/ops/outbox/retry", data={"item_id": dead, "csrf_token": "0" * 32})
    assert bad.status_code == 403
    with factory() as s:
        assert s.get(OutboxItem, book.dead_ids[0]).status == "dead"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    ok = browser.post("/ops/outbox/retry", data={"item_id": dead, "csrf_token": csrf})
    assert ok.status_code == 303
    with factory() as s:
        assert s.get(OutboxItem, book.dead_ids[0]).status == "pending"


def test_login_rejects_bad_token_and_forged_form(app_parts):
    app, _, _ = app_parts
    browser = client_for(app)
    r = _login(browser, "wrong")
    assert r.status_code == 200 and "not valid" in r.text
    assert SESSION_COOKIE not in browser.cookies
    forged = client_for(app).post("/login", data={"token": VIEWER_TOKEN, "csrf_token": "x"})
    assert SESSION_COOKIE not in forged.cookies


def test_login_never_redirects_off_site(app_parts):
    app, _, _ = app_parts
    browser = client_for(app)
    form = browser.get("/login?next=//evil.example/x").text
    assert 'name="next" value="/"' in form


def test_session_cookie_is_signed_and_expires(monkeypatch):
    import itsdangerous.timed

    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: clock["now"])
    auth = Authenticator(web_settings("sqlite://"))
    cookie = auth.issue_session("reader")
    clock["now"] += 1
    assert auth.read_session(cookie) == "reader"
    clock["now"] += 13 * 3600
    assert auth.read_session(cookie) is None  # older than the session lifetime
    clock["now"] = 1_000_001
    payload, stamp, sig = cookie.split(".")
    other = auth.issue_session("ops:operator").split(".")[0]
    assert auth.read_session(f"{other}.{stamp}.{sig}") is None  # another name, same signature
    assert auth.read_session(f"{payload}.{stamp}.{sig[:-2]}xx") is None
    assert auth.read_session("garbage") is None
    assert auth.csrf_for(cookie) == auth.csrf_for(cookie) != auth.csrf_for(other)


def test_rotating_tokens_ends_sessions():
    from pydantic import SecretStr

    from pulsehub.settings import Settings

    old = Authenticator(web_settings("sqlite://"))
    cookie = old.issue_session("reader")
    rotated = Authenticator(
        Settings(web_tokens={"reader": SecretStr("new"), "ops:operator": SecretStr("x")})
    )
    assert rotated.read_session(cookie) is None


def test_no_tokens_means_nobody_gets_in(book_factory):
    from pulsehub.settings import Settings
    from pulsehub.web.app import create_app

    factory, _, url = book_factory
    app = create_app(Settings(database_url=url), factory)
    assert client_for(app, "").get("/api/overview").status_code == 401
    assert "nobody can sign in" in client_for(app).get("/login").text


def test_zendesk_webhook_is_mounted_behind_its_own_signature(app_parts):
    """The webhook router is included; it answers by its signature check, not the dashboard login."""
    app, _, _ = app_parts
    r = client_for(app).post("/webhooks/zendesk", content=b"{}")
    assert r.status_code == 503  # no PULSEHUB_WEBHOOK_SECRET in these settings: disabled, not 401
    assert "webhook" in r.json()["detail"]


def test_pages_forbid_framing_and_foreign_content(app_parts):
    app, _, _ = app_parts
    r = client_for(app, VIEWER_TOKEN).get("/", headers=HTML)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert r.headers["cache-control"] == "no-store"


def test_sign_out_needs_csrf_and_ends_the_session(app_parts):
    app, _, _ = app_parts
    browser = client_for(app)
    _login(browser, VIEWER_TOKEN)
    page = browser.get("/", headers=HTML).text
    assert browser.post("/logout").status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = browser.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert browser.get("/", headers=HTML).status_code == 303
