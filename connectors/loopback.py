"""The requests session vendor clients send through, with the sandbox/testing loopback.

`loopback_url` (sandbox/testing only) routes every https call a vendor client makes to a
plain-http base URL on this machine; a host elsewhere is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from connectors.errors import ConfigError


class LoopbackRedirect(HTTPAdapter):
    """Transport adapter that sends every request to one http base URL, keeping path and query."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        target = urlsplit(base_url)
        if target.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ConfigError(
                f"loopback_url must point at this machine, got host {target.hostname!r}"
            )
        self._netloc = target.netloc
        super().__init__(**kwargs)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        u = urlsplit(request.url or "")
        request.url = urlunsplit(("http", self._netloc, u.path, u.query, u.fragment))
        return super().send(request, *args, **kwargs)


def vendor_session(
    loopback_url: str | None, adapter_kwargs: dict[str, Any] | None = None
) -> requests.Session:
    """A session with one adapter on both schemes: the loopback one when a URL is given."""
    session = requests.Session()
    kwargs = adapter_kwargs or {}
    adapter: HTTPAdapter = (
        LoopbackRedirect(loopback_url, **kwargs) if loopback_url else HTTPAdapter(**kwargs)
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
