"""`/healthz` answers without a token, and says 503 when the database does not answer."""

from __future__ import annotations

from model.db import make_engine, make_session_factory
from pulsehub.web.app import create_app
from tests.web.conftest import client_for, web_settings


def test_healthz_needs_no_token_and_reveals_nothing(read_only_app) -> None:
    r = client_for(read_only_app).get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert client_for(read_only_app).get("/metrics").status_code == 401


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    url = f"sqlite:///{gone / 'x.db'}"
    app = create_app(web_settings(url), make_session_factory(make_engine(url)))
    gone.rmdir()  # the database's directory disappears under the running app
    r = client_for(app).get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "error", "database": "unreachable"}
