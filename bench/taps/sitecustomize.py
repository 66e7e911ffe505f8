"""Route the Singer taps' hard-coded vendor hosts to the pulsehub sandbox (bench venvs only).

Copied into the taps' own virtualenv by `python -m bench taps`; Python imports it at start-up.
Every `requests.Session` then hands URLs on *.salesforce.com / *.zendesk.com to an adapter
that rewrites them to PULSEHUB_BENCH_SANDBOX (plain http on loopback). The taps' code is
not touched; each session keeps its own adapter and connection pool, as it would in production.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_TARGET = os.environ.get("PULSEHUB_BENCH_SANDBOX", "")
_VENDOR_SUFFIXES = (".salesforce.com", ".zendesk.com")

if _TARGET:
    import requests
    from requests.adapters import HTTPAdapter

    _NETLOC = urlsplit(_TARGET).netloc

    class SandboxAdapter(HTTPAdapter):
        """Send vendor https URLs (and the sandbox's own https instance URL) to the sandbox."""

        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            original = request.url
            request.url = urlsplit(original)._replace(scheme="http", netloc=_NETLOC).geturl()
            try:
                response = super().send(request, **kwargs)
            finally:
                request.url = original  # the client sees the URL it asked for, as in production
            response.url = original
            return response

    def _is_vendor(url: str) -> bool:
        u = urlsplit(url)
        host = (u.hostname or "").lower()
        return host.endswith(_VENDOR_SUFFIXES) or (u.scheme == "https" and u.netloc == _NETLOC)

    _get_adapter = requests.Session.get_adapter

    def get_adapter(self, url):  # type: ignore[no-untyped-def]
        if _is_vendor(url):
            adapter = self.__dict__.get("_sandbox_adapter")
            if adapter is None:
                adapter = self.__dict__["_sandbox_adapter"] = SandboxAdapter()
            return adapter
        return _get_adapter(self, url)

    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign]
