"""Wire formats shared by the simulators: Salesforce ids, datetimes, dates and a fast seeded hash."""

from __future__ import annotations

import datetime as dt

_ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MASK = 0xFFFFFFFFFFFFFFFF


def sf_id(prefix: str, number: int) -> str:
    """A valid 18-character Salesforce id: 3-char key prefix, pod, serial, case-safe checksum."""
    serial = ""
    n = number
    for _ in range(9):
        n, r = divmod(n, 62)
        serial = _ID_CHARS[r] + serial
    id15 = f"{prefix}Dn0{serial}"
    return id15 + _checksum(id15)


def id18(rid: str) -> str:
    """The 18-character form of a Salesforce id (15-character ids get their checksum)."""
    return rid + _checksum(rid) if len(rid) == 15 else rid


def _checksum(id15: str) -> str:
    suffix = ""
    for block in range(3):
        bits = 0
        for i, ch in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SUFFIX_CHARS[bits]
    return suffix


def sf_datetime(value: dt.datetime) -> str:
    """Salesforce response datetime: `2024-01-02T03:04:05.000+0000`."""
    v = value.astimezone(UTC)
    return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}+0000"


def zd_datetime(epoch: int) -> str:
    """Zendesk datetime: `2023-09-18T15:57:42Z`."""
    return (EPOCH + dt.timedelta(seconds=epoch)).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_epoch(value: dt.datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return int((value - EPOCH).total_seconds())


def from_epoch(epoch: float) -> dt.datetime:
    """Aware UTC datetime from epoch seconds."""
    return EPOCH + dt.timedelta(seconds=epoch)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC of a date."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO-8601 datetime with Z, +hh:mm or +hhmm; naive values are rejected."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"datetime without offset: {text!r}")
    return value.astimezone(UTC)


def mix(*parts: int) -> int:
    """Deterministic 64-bit hash of integers (FNV-style fold, splitmix64 finaliser): per-cell noise."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) * 0x100000001B3 & _MASK
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK
    return h ^ (h >> 31)
