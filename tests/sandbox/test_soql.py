"""The SOQL subset: parse errors, literals, and WHERE semantics checked against a Python oracle."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.soql import SoqlError, compare, in_list
from sandbox.soql_parser import parse

TODAY = dt.date(2025, 6, 2)
Pred = Callable[[dict[str, Any]], bool]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
TIERS = ["Strategic", "Tier 1", "Tier 2", "Tier 3"]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Account",
        "SELECT Id FROM",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account WHERE Name = ",
        "SELECT Id FROM Account WHERE Name NOT LIKE 'a%'",
        "SELECT Id FROM Account LIMIT",
        "SELECT Id FROM Account ORDER Name",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT Id FROM Account WHERE Name = 'unterminated",
    ],
)
def test_malformed_queries(text: str) -> None:
    with pytest.raises(SoqlError) as exc:
        parse(text, TODAY)
    assert exc.value.code == "MALFORMED_QUERY"


def test_literals_and_relative_dates() -> None:
    q = parse(
        "select Id from Account where Renewal_Date__c = LAST_N_DAYS:7 "
        "and SystemModstamp > 2025-06-01T10:00:00.000+0000 and Name = 'O\\'Brien'",
        TODAY,
    )
    rec = {
        "Renewal_Date__c": dt.date(2025, 5, 27),
        "Name": "o'brien",
        "SystemModstamp": dt.datetime(2025, 6, 1, 10, 0, 1, tzinfo=dt.UTC),
    }
    assert q.where is not None and q.where(rec.get)
    assert not q.where({**rec, "Renewal_Date__c": dt.date(2025, 5, 25)}.get)
    assert not q.where({**rec, "SystemModstamp": dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC)}.get)
    nxt = parse("SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:3", TODAY)
    assert nxt.where is not None
    assert [nxt.where({"CloseDate": TODAY + dt.timedelta(days=d)}.get) for d in range(5)] == [
        False,
        True,
        True,
        True,
        False,
    ]
    months = parse(
        "SELECT Id FROM Account WHERE CreatedDate = LAST_MONTH OR Customer_Since__c = THIS_YEAR",
        TODAY,
    )
    assert months.where is not None
    may = dt.datetime(2025, 5, 31, 23, tzinfo=dt.UTC)
    assert months.where({"CreatedDate": may, "Customer_Since__c": dt.date(2024, 1, 1)}.get)
    assert not months.where(
        {
            "CreatedDate": may.replace(month=4, day=30),
            "Customer_Since__c": dt.date(2024, 12, 31),
        }.get
    )
    count = parse("SELECT COUNT() FROM Contact", TODAY)
    assert count.count_only and count.fields == []


def _arr(op: str, n: int) -> tuple[str, Pred]:
    def pred(r: dict[str, Any]) -> bool:
        v = r["ARR__c"]
        if v is None:
            return op == "!="
        return _OPS[op](v, n)

    return f"ARR__c {op} {n}", pred


def _tier(values: list[str], negate: bool) -> tuple[str, Pred]:
    listed = ", ".join(f"'{v}'" for v in values)
    text = f"Tier__c {'NOT IN' if negate else 'IN'} ({listed})"
    return text, lambda r: (r["Tier__c"] in values) != negate


def _like(prefix: str) -> tuple[str, Pred]:
    return f"Name LIKE '{prefix}%'", lambda r: r["Name"].lower().startswith(prefix.lower())


def _date(op: str, day: dt.date) -> tuple[str, Pred]:
    return f"Renewal_Date__c {op} {day.isoformat()}", lambda r: _OPS[op](r["Renewal_Date__c"], day)


_leaf = st.one_of(
    st.builds(_arr, st.sampled_from(list(_OPS)), st.integers(0, 100)),
    st.builds(_tier, st.lists(st.sampled_from(TIERS), min_size=1, max_size=3), st.booleans()),
    st.builds(_like, st.sampled_from(["a", "B", "ce", "x"])),
    st.builds(
        _date, st.sampled_from(list(_OPS)), st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    ),
)


def _combine(children: st.SearchStrategy[tuple[str, Pred]]) -> st.SearchStrategy[tuple[str, Pred]]:
    def both(kind: str, a: tuple[str, Pred], b: tuple[str, Pred]) -> tuple[str, Pred]:
        if kind == "AND":
            return f"({a[0]} AND {b[0]})", lambda r: a[1](r) and b[1](r)
        return f"({a[0]} OR {b[0]})", lambda r: a[1](r) or b[1](r)

    def neg(a: tuple[str, Pred]) -> tuple[str, Pred]:
        return f"NOT ({a[0]})", lambda r: not a[1](r)

    return st.one_of(
        st.builds(both, st.sampled_from(["AND", "OR"]), children, children), children.map(neg)
    )


_records = st.lists(
    st.fixed_dictionaries(
        {
            "ARR__c": st.one_of(st.none(), st.integers(0, 100).map(float)),
            "Tier__c": st.sampled_from(TIERS),
            "Name": st.sampled_from(["Acme", "apex", "Beacon", "Cedar", "cobalt", "Xylo"]),
            "Renewal_Date__c": st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(cond=st.recursive(_leaf, _combine, max_leaves=6), records=_records)
def test_where_matches_python_oracle(cond: tuple[str, Pred], records: list[dict[str, Any]]) -> None:
    text, oracle = cond
    q = parse(f"SELECT Id FROM Account WHERE {text}", TODAY)
    assert q.where is not None
    assert [q.where(r.get) for r in records] == [oracle(r) for r in records], text


@given(
    st.lists(st.tuples(st.integers(0, 2**34), st.integers(0, 2**28 - 1)), max_size=60),
    st.tuples(st.integers(0, 2**34), st.integers(-1, 2**28 - 1)),
)
def test_packed_export_keys_sort_and_bisect_like_tuples(
    pairs: list[tuple[int, int]], probe: tuple[int, int]
) -> None:
    import bisect

    from sandbox.tickets import PackedKeys
    from sandbox.zd_export import decode_cursor, encode_cursor

    packed = PackedKeys.build(pairs)
    ordered = sorted(pairs)
    assert [packed[i] for i in range(len(packed))] == ordered
    assert bisect.bisect_left(packed, probe) == bisect.bisect_left(ordered, probe)
    assert bisect.bisect_right(packed, probe) == bisect.bisect_right(ordered, probe)
    if probe[1] >= 0:
        assert decode_cursor(encode_cursor(*probe)) == probe


_ID_CHARS = st.sampled_from("aAbB0")


@settings(max_examples=200, deadline=None)
@given(
    listed=st.lists(
        st.one_of(
            st.text(_ID_CHARS, min_size=1, max_size=3), st.text(_ID_CHARS, min_size=15, max_size=18)
        ),
        min_size=1,
        max_size=6,
    ),
    value=st.one_of(
        st.none(),
        st.integers(0, 3),
        st.text(_ID_CHARS, min_size=1, max_size=3),
        st.text(_ID_CHARS, min_size=15, max_size=18),
    ),
)
def test_in_list_means_what_one_equality_per_value_means(listed: list[str], value: Any) -> None:
    """The set-based IN (a batch of keys against a large table) agrees with `=` value by value:
    case-insensitive, a 15-character id equal to its 18-character form, null equal to nothing."""
    ids = [v + "AAA" if len(v) == 15 else v for v in listed]  # 15- and 18-character forms
    value = value + "AAA" if isinstance(value, str) and len(value) == 15 else value
    for values in (listed, ids, [*ids, 7]):
        assert in_list(values)(value) == any(compare("=", value, v) for v in values)
    if isinstance(value, str) and len(value) == 18:
        assert in_list([value[:15]])(value) and in_list([value.upper()])(value)
