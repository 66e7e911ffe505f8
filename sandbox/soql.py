"""A SOQL subset: parse SELECT ... FROM ... [WHERE] [ORDER BY] [LIMIT] [OFFSET] and evaluate it.

Supported: field lists with one-level relationship paths (Owner.Name), COUNT(); conditions with
AND/OR/NOT, parentheses, = != <> < <= > >=, IN / NOT IN, LIKE; string, number, boolean, null,
date, datetime and the date literals TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n,
LAST_90_DAYS, NEXT_90_DAYS, THIS_MONTH, LAST_MONTH, THIS_YEAR.
Not supported (MALFORMED_QUERY): subqueries, GROUP BY, aggregate functions other than COUNT().
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.formats import UTC, parse_datetime


class SoqlError(ValueError):
    """A query the sandbox cannot parse (MALFORMED_QUERY) or a bad field (INVALID_FIELD)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_TOKEN = re.compile(
    r"""\s*(?:
     (?P<str>'(?:\\.|[^'\\])*')
    |(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<num>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
    )""",
    re.X,
)


@dataclass
class DateRange:
    """A relative date literal resolved to [start, end)."""

    start: dt.datetime
    end: dt.datetime


@dataclass
class Query:
    """A parsed query."""

    fields: list[str]
    sobject: str
    where: Callable[[Callable[[str], Any]], bool] | None = None
    where_fields: list[str] = field(default_factory=list)
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # field, desc, nulls_last
    limit: int | None = None
    offset: int = 0
    count_only: bool = False


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) tokens."""
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos : pos + 20]}'")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(kind: str, text: str, today: dt.date) -> Any:
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "dt":
        return parse_datetime(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "num":
        return float(text)
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    start = dt.datetime(today.year, today.month, today.day, tzinfo=UTC)
    day = dt.timedelta(days=1)
    ranges = {"today": (0, 1), "yesterday": (-1, 0), "tomorrow": (1, 2)}
    if low in ranges:
        a, b = ranges[low]
        return DateRange(start + a * day, start + b * day)
    if low in ("last_90_days", "next_90_days"):
        low = low.replace("_90_days", "_n_days:90")
    month = dt.datetime(today.year, today.month, 1, tzinfo=UTC)
    if low == "this_month":
        return DateRange(month, _add_months(month, 1))
    if low == "last_month":
        return DateRange(_add_months(month, -1), month)
    if low == "this_year":
        return DateRange(month.replace(month=1), month.replace(year=today.year + 1, month=1))
    m = re.fullmatch(r"(last|next)_n_days:(\d+)", low)
    if m:
        n = int(m.group(2))
        if m.group(1) == "last":
            return DateRange(start - n * day, start + day)
        return DateRange(start + day, start + (n + 1) * day)
    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text}'")


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def _comparable(value: Any, other: Any) -> tuple[Any, Any]:
    """Align date/datetime/number types so the comparison means what SOQL means."""
    if isinstance(value, dt.datetime) and type(other) is dt.date:
        other = dt.datetime(other.year, other.month, other.day, tzinfo=UTC)
    elif type(value) is dt.date and isinstance(other, dt.datetime):
        other = other.date()
    elif isinstance(value, bool) or isinstance(other, bool):
        return value, other
    elif isinstance(value, int | float) and isinstance(other, int | float):
        return float(value), float(other)
    return value, other


def compare(op: str, value: Any, lit: Any) -> bool:
    """SOQL comparison semantics (null only equals null)."""
    if isinstance(lit, DateRange):
        if value is None:
            return op in ("!=", "<>")
        v, start = _comparable(value, lit.start)
        _, end = _comparable(value, lit.end)
        return {
            "=": start <= v < end,
            "!=": not start <= v < end,
            "<>": not start <= v < end,
            ">": v >= end,
            ">=": v >= start,
            "<": v < start,
            "<=": v < end,
        }[op]
    if op == "=":
        return value == lit if value is None or lit is None else _eq(value, lit)
    if op in ("!=", "<>"):
        return not (value == lit if value is None or lit is None else _eq(value, lit))
    if value is None or lit is None:
        return False
    v, o = _comparable(value, lit)
    try:
        return {"<": v < o, "<=": v <= o, ">": v > o, ">=": v >= o}[op]
    except TypeError as exc:
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"cannot compare {lit!r}") from exc


# a Salesforce id's two forms: 15 characters (case-sensitive) and 18 (with a checksum suffix)
_OTHER_ID_FORM = {15: 18, 18: 15}


def _eq(value: Any, lit: Any) -> bool:
    v, o = _comparable(value, lit)
    if isinstance(v, str) and isinstance(o, str):
        if _OTHER_ID_FORM.get(len(v)) == len(o) and v[:15] == o[:15]:
            return True  # a 15-character id matches its 18-character form
        return v.lower() == o.lower()
    return bool(v == o)


def in_list(values: list[Any]) -> Callable[[Any], bool]:
    """`field IN (values)` with `compare("=")`'s meaning. A list of plain strings is matched
    through sets (case-insensitive, a 15-character id against its 18-character form), so a
    query naming 200 keys costs one lookup per row, not 200 comparisons (the write path's
    idempotency checks name a batch of keys against every Task of a large book)."""
    if not values or not all(type(v) is str for v in values):
        return lambda value: any(compare("=", value, v) for v in values)
    lowered = {v.lower() for v in values}
    prefix_of = {n: {v[:15] for v in values if len(v) == n} for n in _OTHER_ID_FORM}

    def match(value: Any) -> bool:
        if type(value) is not str:
            return any(compare("=", value, v) for v in values)
        if value.lower() in lowered:
            return True
        other = _OTHER_ID_FORM.get(len(value))
        return other is not None and value[:15] in prefix_of[other]

    return match


def like(value: Any, pattern: str) -> bool:
    """Case-insensitive LIKE with % and _."""
    if value is None:
        return False
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, str(value), re.I | re.S) is not None
