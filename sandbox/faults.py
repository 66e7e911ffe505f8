"""Deterministic fault injection: scripted faults by path, seeded random profiles, per-record errors."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

Action = int | str
ACTIONS = (
    "reset",
    "timeout",
    "malformed_json",
    "expire_session",
    "slow",
    "429-no-retry-after",
    "lost_response",  # the request is applied, then the connection resets before the answer
)
PROFILES = ("none", "flaky", "storm")


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    action: Action
    remaining: int
    method: str | None


@dataclass
class _RecordRule:
    code: str
    ids: dict[str, int] | None
    rate: float
    remaining: int
    message: str


class Faults:
    """Scripted faults are consumed in the order added; the profile then rolls a seeded die."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rules: list[_Rule] = []
        self._records: list[_RecordRule] = []
        self.profile = "none"
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def add(
        self, path_regex: str, action: Action, times: int = 1, method: str | None = None
    ) -> None:
        """Make the next `times` requests whose path matches `path_regex` fail with `action`."""
        if isinstance(action, str) and action not in ACTIONS:
            raise ValueError(
                f"unknown fault action {action!r}; use an int status or one of {ACTIONS}"
            )
        with self._lock:
            self._rules.append(
                _Rule(re.compile(path_regex), action, times, method.upper() if method else None)
            )

    def set_profile(self, name: str) -> None:
        """Random faults: none, flaky (a little of everything) or storm (20% 429, 5% 5xx, resets)."""
        if name not in PROFILES:
            raise ValueError(f"unknown fault profile {name!r}; use one of {PROFILES}")
        with self._lock:
            self.profile = name
            self._rng = random.Random(f"{self._seed}:faults:{name}")

    def record_errors(
        self,
        code: str = "UNABLE_TO_LOCK_ROW",
        ids: list[str] | None = None,
        rate: float = 0.0,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """Per-record errors in Salesforce writes: listed ids fail `times` times each, or a
        fraction `rate` of records fails in each of the next `times` write requests."""
        if not ids and not rate:
            raise ValueError("record_errors needs ids=[...] or rate=")
        text = message or {
            "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record",
        }.get(code, f"sandbox injected {code}")
        with self._lock:
            self._records.append(
                _RecordRule(code, dict.fromkeys(ids, times) if ids else None, rate, times, text)
            )

    def clear(self) -> None:
        """Drop every scripted fault and per-record error; the profile stays."""
        with self._lock:
            self._rules.clear()
            self._records.clear()

    def pick(self, method: str, path: str) -> Action | None:
        """The fault for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if (
                    rule.remaining > 0
                    and rule.method in (None, method)
                    and rule.pattern.search(path)
                ):
                    rule.remaining -= 1
                    return rule.action
            self._rules = [r for r in self._rules if r.remaining > 0]
            return self._roll()

    def _roll(self) -> Action | None:
        if self.profile == "none":
            return None
        r = self._rng.random()
        if self.profile == "flaky":
            table: tuple[tuple[float, Action], ...] = ((0.05, 429), (0.07, 503), (0.08, "reset"))
        else:
            table = ((0.20, 429), (0.225, 500), (0.25, 503), (0.27, "reset"), (0.40, "slow"))
        for bound, action in table:
            if r < bound:
                return action
        return None

    def begin_write(self) -> None:
        """Start a write request: rate-based record rules use up one of their `times`."""
        with self._lock:
            for rule in self._records:
                if rule.ids is None:
                    rule.remaining -= 1

    def record_error(self, record_id: str) -> tuple[str, str] | None:
        """(statusCode, message) if this record must fail in the current write."""
        with self._lock:
            for rule in self._records:
                if rule.ids is not None:
                    if rule.ids.get(record_id, 0) > 0:
                        rule.ids[record_id] -= 1
                        return rule.code, rule.message
                elif rule.remaining >= 0 and self._rng.random() < rule.rate:
                    return rule.code, rule.message
            self._records = [
                r
                for r in self._records
                if (r.ids is None and r.remaining >= 0) or (r.ids and any(r.ids.values()))
            ]
            return None
