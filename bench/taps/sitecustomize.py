"""Route the Singer taps' hard-coded vendor hosts to the pulsehub sandbox (bench venvs only).

Copied into the taps' own virtualenv by `python -m bench taps`; Python imports it at start-up.
Every `requests.Session` then hands URLs on *.salesforce.com / *.zendesk.com to an adapter
that rewrites them to PULSEHUB_BENCH_SANDBOX (plain http on loopback). The taps' code is
not touched; each session keeps its own adapter and connection pool, as it would in production.
With PULSEHUB_BENCH_SLEEP_LOG set, the seconds spent in `time.sleep` are added up and written
there at exit, so the bench can tell the tap's own sleeping from its work.
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

_SLEEP_LOG = os.environ.get("PULSEHUB_BENCH_SLEEP_LOG", "")

if _SLEEP_LOG:
    # Add up the tap's own time.sleep calls (rate-limit guards, back-off), so the bench can
    # report them exactly; one line per process, written at exit. Nothing else changes.
    import atexit
    import time

    _real_sleep = time.sleep
    _slept = [0.0, 0]

    def _counted_sleep(seconds):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            _real_sleep(seconds)
        finally:
            _slept[0] += time.perf_counter() - start
            _slept[1] += 1

    def _write_sleeps() -> None:
        with open(_SLEEP_LOG, "a") as log:
            log.write(f"{_slept[0]:.6f} {_slept[1]}\n")

    time.sleep = _counted_sleep
    atexit.register(_write_sleeps)
