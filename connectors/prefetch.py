"""Paginated reads with the next page requested while the current one is being processed.

A listing whose page names its successor (`after_url`, `next_page`, `links.next`) can ask for
page N+1 as soon as page N has arrived, so the network and the server's time overlap the
caller's validation and storing of page N. Pages are still yielded one at a time, in order,
and never more than one request is in flight: the request for page N+2 starts only once page
N+1 has arrived. A request that fails raises its error where the caller asks for that page,
after page N was handed over, exactly as an unprefetched request would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
Page = TypeVar("Page")


class Prefetch(Generic[T]):
    """One call running in a background thread; `result()` returns its value or raises."""

    def __init__(self, fn: Callable[[], T], *, name: str = "prefetch") -> None:
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        # daemon: a process exiting mid-pull does not wait out a retry's back-off
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._value  # type: ignore[return-value]


def read_ahead(
    first: Callable[[], Page],
    follow: Callable[[Page], Callable[[], Page] | None],
    *,
    name: str = "prefetch",
) -> Iterator[Page]:
    """Pages from `first()` on; `follow(page)` is the call for the next page, or None at the end.

    The next call starts in the background before the current page is yielded. An error of
    `follow` itself is raised after the page is yielded, where reading the link used to fail.
    """
    page = first()
    while True:
        try:
            fetch = follow(page)
        except Exception:  # a page that names its successor badly is still handed over first
            yield page
            raise
        ahead = Prefetch(fetch, name=name) if fetch is not None else None
        yield page
        if ahead is None:
            return
        page = ahead.result()
