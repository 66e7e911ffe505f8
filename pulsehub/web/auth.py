"""Who is asking: API tokens from settings, a signed session cookie after login, roles and CSRF.

A token named `something:operator` grants the operator role (retries, overrides, identity
decisions); every other token is read-only. Browsers log in once with a token and carry an
HMAC-signed cookie; scripts send `Authorization: Bearer <token>`. Forms posted with the
cookie must carry a CSRF token bound to that cookie; bearer requests need none (a browser
never attaches them on its own). Token values are compared in constant time and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from pulsehub.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "pulsehub_session"
LOGIN_CSRF_COOKIE = "pulsehub_login_csrf"
SESSION_TTL_S = 12 * 3600
OPERATOR_SUFFIX = ":operator"


class LoginRequired(Exception):
    """No valid credentials: pages redirect to the login form, the API answers 401."""


class Forbidden(Exception):
    """Valid credentials without the rights for this action (403)."""


@dataclass(frozen=True)
class Principal:
    name: str
    via: str  # "cookie" | "bearer"
    session: str = ""

    @property
    def is_operator(self) -> bool:
        return self.name.endswith(OPERATOR_SUFFIX)

    @property
    def role(self) -> str:
        return "operator" if self.is_operator else "read-only"


class Authenticator:
    """Checks tokens and session cookies against the tokens configured in settings."""

    def __init__(self, settings: Settings) -> None:
        self._tokens = {name: s.get_secret_value() for name, s in settings.web_tokens.items()}
        material = "\0".join(f"{n}={t}" for n, t in sorted(self._tokens.items()))
        # the signing key changes whenever a token does, which ends every session it signed
        self._key = hashlib.sha256(b"pulsehub-web-session\0" + material.encode()).digest()

    @property
    def configured(self) -> bool:
        return bool(self._tokens)

    def name_for_token(self, token: str) -> str | None:
        found = None
        for name, value in self._tokens.items():
            if value and hmac.compare_digest(value.encode(), token.encode()):
                found = name
        return found

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._key, salt=f"pulsehub-{purpose}")

    def issue_session(self, name: str) -> str:
        """A signed, timestamped cookie value naming the token's holder (itsdangerous)."""
        return self._serializer("session").dumps(name)

    def read_session(self, cookie: str) -> str | None:
        """The holder's name, or None when the cookie is forged, older than the session
        lifetime, or names a token that is no longer configured."""
        try:
            name = self._serializer("session").loads(cookie, max_age=SESSION_TTL_S)
        except BadData:
            return None
        return name if isinstance(name, str) and name in self._tokens else None

    def csrf_for(self, session_cookie: str) -> str:
        """The CSRF token bound to one session: the same for every form of that session."""
        digest = hashlib.sha256(session_cookie.encode()).hexdigest()
        return URLSafeSerializer(self._key, salt="pulsehub-csrf").dumps(digest).rsplit(".", 1)[-1]

    def principal(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            name = self.name_for_token(header[7:].strip())
            return Principal(name, "bearer") if name else None
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and (name := self.read_session(cookie)):
            return Principal(name, "cookie", cookie)
        return None

    def check_csrf(self, principal: Principal, submitted: str | None) -> None:
        """Cookie-authenticated forms must echo the CSRF token bound to their session."""
        if principal.via != "cookie":
            return
        if not submitted or not hmac.compare_digest(submitted, self.csrf_for(principal.session)):
            log.warning("CSRF check failed for %s", principal.name)
            raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def authenticator(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


def require_user(request: Request) -> Principal:
    """Dependency: any configured token (read-only or operator)."""
    principal = authenticator(request).principal(request)
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    return principal


def require_operator(request: Request) -> Principal:
    """Dependency: the operator role."""
    principal = require_user(request)
    if not principal.is_operator:
        raise Forbidden(
            f"{principal.name} is read-only: operator actions need an ':operator' token"
        )
    return principal
