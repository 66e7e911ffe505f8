"""Salesforce query execution: SOQL over the world's records, relationship paths, result paging.

Simplified: a result is a snapshot of matching ids; field values are read when each page is
served (Salesforce snapshots the values too). At most 10 cursors stay open, oldest dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sandbox.app import BadRequest
from sandbox.sf_schema import BY_NAME, FIELDS, RELATIONSHIPS, Field, canonical_object, to_wire
from sandbox.soql import Query, SoqlError
from sandbox.soql_parser import parse
from sandbox.state import MAX_QUERY_CURSORS, State

_BATCH_RX = re.compile(r"batchSize\s*=\s*(\d+)", re.I)


def _invalid_field(obj: str, name: str) -> BadRequest:
    return BadRequest(
        400,
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{obj}'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or "
        "the describe call for the appropriate names.",
    )


def resolve(obj: str, path: str) -> tuple[Field | None, Field]:
    """(relationship field or None, leaf field) of a field path such as Owner.Name."""
    if "." in path:
        rel_name, _, leaf = path.partition(".")
        rel = RELATIONSHIPS[obj].get(rel_name.lower())
        if rel is None or rel.reference_to is None or "." in leaf:
            raise BadRequest(
                400,
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel_name}' in field "
                f"path. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name.",
            )
        f = BY_NAME[rel.reference_to].get(leaf.lower())
        if f is None:
            raise _invalid_field(rel.reference_to, leaf)
        return rel, f
    f = BY_NAME[obj].get(path.lower())
    if f is None:
        raise _invalid_field(obj, path)
    return None, f


class Plan:
    """A validated query: which object, which columns, how to read each from a record."""

    def __init__(self, state: State, query: Query) -> None:
        obj = canonical_object(query.sobject)
        if obj is None:
            raise BadRequest(
                400, "INVALID_TYPE", f"sObject type '{query.sobject}' is not supported."
            )
        self.obj = obj
        self.query = query
        self.world = state.world
        self.columns = [(p, *resolve(obj, p)) for p in query.fields]
        for p in query.order:
            resolve(obj, p[0])
        self.where_leaves = [(p, resolve(obj, p)[1]) for p in query.where_fields]

    def value(self, record: dict[str, Any], path: str) -> Any:
        """The Python value of a (possibly relationship) path on a record."""
        rel, f = resolve(self.obj, path)
        if rel is None:
            return record.get(f.name)
        target = self.world.sf[rel.reference_to or ""].get(record.get(rel.name) or "")
        return None if target is None else target.get(f.name)

    def _matches(self, record: dict[str, Any]) -> bool:
        """WHERE on one record; a record injected with a value of the wrong type for a filtered
        field does not match (the filter cannot apply to it), and the query still runs."""
        where = self.query.where
        if where is None:
            return True
        try:
            return where(self._getter(record))
        except SoqlError as exc:
            if all(_well_typed(f, self.value(record, p)) for p, f in self.where_leaves):
                # a literal of the wrong type for the field: the query's own error
                raise BadRequest(400, exc.code, str(exc)) from exc
            return False

    def _getter(self, record: dict[str, Any]) -> Callable[[str], Any]:
        def get(path: str) -> Any:
            return self.value(record, path)

        return get

    def run(self, include_deleted: bool) -> list[str]:
        """Store keys of matching records, ordered, offset and limited.

        Keys, not `Id` values: a record injected with a null or odd Id is still served.
        """
        q = self.query
        table = self.world.sf[self.obj]
        keys = [k for k, r in table.items() if include_deleted or not r.get("IsDeleted")]
        if q.where is not None:
            keys = [k for k in keys if self._matches(table[k])]
        keys.sort(key=lambda k: (_key(table[k].get("Id")), k))
        for path, desc, nulls_last in reversed(q.order):
            present = [k for k in keys if self.value(table[k], path) is not None]
            missing = [k for k in keys if self.value(table[k], path) is None]
            present.sort(key=lambda k: _key(self.value(table[k], path)), reverse=desc)
            keys = present + missing if nulls_last else missing + present
        keys = keys[q.offset :]
        if q.limit is not None:
            keys = keys[: q.limit]
        return keys

    def render(self, record: dict[str, Any], version: str) -> dict[str, Any]:
        """One record in the query result shape (attributes first, relationships nested)."""
        out: dict[str, Any] = {"attributes": _attributes(self.obj, record.get("Id"), version)}
        for _path, rel, f in self.columns:
            if rel is None:
                out[f.name] = to_wire(f, record.get(f.name))
                continue
            target_obj = rel.reference_to or ""
            target = self.world.sf[target_obj].get(record.get(rel.name) or "")
            key = rel.relationship or ""
            if target is None:
                out[key] = None
                continue
            nested = out.get(key) or {"attributes": _attributes(target_obj, target["Id"], version)}
            nested[f.name] = to_wire(f, target.get(f.name))
            out[key] = nested
        return out


def _attributes(obj: str, rid: Any, version: str) -> dict[str, str]:
    return {"type": obj, "url": f"/services/data/v{version}/sobjects/{obj}/{rid or ''}"}


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "datetime": dt.datetime,
    "date": dt.date,
    "boolean": bool,
    "int": int,
    "double": (int, float),
    "currency": (int, float),
    "percent": (int, float),
}


def _well_typed(f: Field, value: Any) -> bool:
    """Whether a stored value has the Python type the field's schema type holds."""
    return value is None or isinstance(value, _PYTHON_TYPES.get(f.type, str))


_RANK = {bool: 0, int: 0, float: 0, str: 1, dt.date: 2, dt.datetime: 3}


def _key(value: Any) -> tuple[int, Any]:
    """Sort key that orders values of one type as SOQL does and never compares across types
    (an injected record may hold a value of the wrong type: it sorts apart, it does not crash)."""
    rank = _RANK.get(type(value), 4)
    if rank == 4:
        return rank, repr(value)
    return rank, value.lower() if isinstance(value, str) else value


def batch_size(header: str) -> int:
    """Batch size from `Sforce-Query-Options` (200..2000, default 2000)."""
    m = _BATCH_RX.search(header or "")
    return 2000 if m is None else max(200, min(2000, int(m.group(1))))


def start_query(
    state: State, text: str, include_deleted: bool, version: str, batch: int
) -> dict[str, Any]:
    """Run a query and return its first page."""
    try:
        query = parse(text, state.world.clock.today())
    except SoqlError as exc:
        raise BadRequest(400, exc.code, str(exc)) from exc
    with state.world.lock:
        plan = Plan(state, query)
        ids = plan.run(include_deleted)
        if query.count_only:
            return {"totalSize": len(ids), "done": True, "records": []}
        state.cursor_serial += 1
        locator = f"01gSB{state.cursor_serial:010d}"
        state.query_cursors[locator] = (plan, ids, batch)
        while len(state.query_cursors) > MAX_QUERY_CURSORS:  # the oldest open cursor is dropped
            state.query_cursors.pop(next(iter(state.query_cursors)))
    return page(state, locator, 0, version)


def page(state: State, locator: str, offset: int, version: str) -> dict[str, Any]:
    """One page of a stored query result."""
    found = state.query_cursors.get(locator)
    if found is None:
        raise BadRequest(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    plan, ids, batch = found
    chunk = ids[offset : offset + batch]
    table = state.world.sf[plan.obj]
    with state.world.lock:
        records = [plan.render(table[i], version) for i in chunk if i in table]
    body: dict[str, Any] = {"totalSize": len(ids), "done": offset + batch >= len(ids)}
    if not body["done"]:
        body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{offset + batch}"
    else:
        with state.world.lock:
            state.query_cursors.pop(locator, None)
    body["records"] = records
    return body


def all_fields(obj: str) -> list[str]:
    """Every field name of an object (for record GETs)."""
    return [f.name for f in FIELDS[obj]]
