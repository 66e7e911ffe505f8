"""read_ahead: pages in order, the next one requested early, one call in flight, errors on time."""

from __future__ import annotations

import threading

import pytest

from connectors.prefetch import Prefetch, read_ahead


class Pages:
    """Pages 1..last served by calls that record how many run at once."""

    def __init__(self, last: int, fail_at: int | None = None) -> None:
        self.last, self.fail_at = last, fail_at
        self.started: list[int] = []
        self.running = self.most_running = 0
        self.lock = threading.Lock()
        self.arrived = {n: threading.Event() for n in range(1, last + 1)}

    def call(self, n: int):  # type: ignore[no-untyped-def]
        def fetch() -> int:
            with self.lock:
                self.started.append(n)
                self.running += 1
                self.most_running = max(self.most_running, self.running)
            try:
                if n == self.fail_at:
                    raise RuntimeError(f"page {n} failed")
                return n
            finally:
                with self.lock:
                    self.running -= 1
                self.arrived[n].set()

        return fetch

    def follow(self, page: int):  # type: ignore[no-untyped-def]
        return self.call(page + 1) if page < self.last else None


def test_pages_come_in_order_with_one_call_in_flight() -> None:
    pages = Pages(5)
    assert list(read_ahead(pages.call(1), pages.follow)) == [1, 2, 3, 4, 5]
    assert pages.started == [1, 2, 3, 4, 5] and pages.most_running == 1


def test_the_next_page_is_requested_while_the_caller_holds_this_one() -> None:
    pages = Pages(3)
    it = read_ahead(pages.call(1), pages.follow)
    assert next(it) == 1
    # the caller has not asked for page 2 yet, and page 2 has already arrived
    assert pages.arrived[2].wait(5)
    assert not pages.arrived[3].is_set(), "page 3 waits until page 2 is handed over"
    assert list(it) == [2, 3]


def test_a_failed_prefetch_raises_after_the_page_before_it() -> None:
    pages = Pages(4, fail_at=3)
    it = read_ahead(pages.call(1), pages.follow)
    assert [next(it), next(it)] == [1, 2]
    with pytest.raises(RuntimeError, match="page 3 failed"):
        next(it)
    assert pages.started == [1, 2, 3], "nothing is requested past the failed page"


def test_a_failing_first_call_raises_at_once() -> None:
    pages = Pages(2, fail_at=1)
    with pytest.raises(RuntimeError, match="page 1 failed"):
        next(read_ahead(pages.call(1), pages.follow))


def test_prefetch_hands_back_value_or_error() -> None:
    assert Prefetch(lambda: 42).result() == 42

    def boom() -> int:
        raise KeyError("x")

    with pytest.raises(KeyError):
        Prefetch(boom).result()


def test_a_bad_link_fails_after_its_page_is_handed_over() -> None:
    def follow(page: int):  # type: ignore[no-untyped-def]
        raise AttributeError("'str' object has no attribute 'get'")

    it = read_ahead(lambda: 1, follow)
    assert next(it) == 1
    with pytest.raises(AttributeError):
        next(it)
