"""Logical write-back fields -> a system's API fields: the names, and how each value is written.

sync plans logical fields (`health_score`, `health_band`, `renewal_risk`, ...) with the values
scoring produced; a connector's YAML says which of them it writes, under which API name, and
how a value is rendered (scaled, rounded, cased, reasons joined). The map is the connector's
write allow-list: a logical field it does not map is never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.base import WriteItem
from connectors.errors import ConfigError, Fatal
from connectors.records import WriteResult


class FieldRule(BaseModel):
    """How one logical field is written: API name, scale, rounding, casing, joined reasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: str
    scale: float | None = None  # multiply first (a 0-1 risk written as a percentage: 100)
    digits: int | None = None  # round to this many decimals; 0 writes an integer
    case: Literal["label"] | None = None  # "insufficient_data" -> "Insufficient Data"
    items: int | None = None  # a list of reasons: the first `items` texts, joined by "; "
    max_chars: int | None = None  # cut a text to the field's length

    def render(self, value: Any) -> Any:
        """The value as this system stores it."""
        if isinstance(value, list):
            texts = self.texts(value)
            value = "; ".join(texts[: self.items] if self.items is not None else texts)
        if self.case == "label":
            value = str(value or "").replace("_", " ").title() or None
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return value[: self.max_chars] if isinstance(value, str) and self.max_chars else value
        if self.scale is not None:
            value = self.scale * value
        if self.digits == 0:
            return round(value)
        return value if self.digits is None else round(value, self.digits)

    @staticmethod
    def texts(value: list[Any]) -> list[str]:
        """Every item of a list of reasons as text (before `items` keeps the first few)."""
        return [r.get("text", str(r)) if isinstance(r, dict) else str(r) for r in value]


class WriteFields(BaseModel):
    """Logical field -> how it is written; the one allow-list of a field write kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: dict[str, FieldRule]
    held_in: str | None = None  # the key of a pulled record that holds these fields (None: top)

    def render(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The mapped logical fields of `values`, rendered as the system stores them."""
        return {
            name: rule.render(values[name]) for name, rule in self.fields.items() if name in values
        }

    def items(self, values: Mapping[str, Any], names: Iterable[str]) -> dict[str, list[str]]:
        """For the mapped list fields among `names`: every item's text (what `render` joins
        the first few of), so a change can be judged against the whole current list."""
        return {
            n: FieldRule.texts(values[n])
            for n in names
            if n in self.fields and isinstance(values.get(n), list)
        }

    def api_names(self, names: Iterable[str] | None = None) -> list[str]:
        """The API names of `names` that are mapped (all mapped fields when None)."""
        wanted = self.fields if names is None else [n for n in names if n in self.fields]
        return [self.fields[n].api for n in wanted]

    def held(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """What a pulled record (keyed by API names) holds in each logical field it carries."""
        if self.held_in is not None:
            record = record.get(self.held_in) or {}
        return {name: record[r.api] for name, r in self.fields.items() if r.api in record}

    def refused(self, names: Iterable[str]) -> list[str]:
        """The logical names this map does not write, sorted."""
        return sorted(set(names) - set(self.fields))

    def to_api(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Logical names -> API names (every name must be mapped: see `refused`)."""
        return {self.fields[name].api: value for name, value in values.items()}


def parse_write_fields(
    data: Any, source: Path | str, key: str, held_in: str | None = None
) -> WriteFields:
    """Validate a YAML mapping of logical fields; a bad one names the file, the key and the fix."""
    try:
        return WriteFields.model_validate({"fields": data or {}, "held_in": held_in})
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join([key, *(str(p) for p in e['loc'][1:])])}': {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(
            f"{source}: invalid write-back field map ({problems}); each logical field needs "
            "`api:` and optionally scale, digits, case: label, items, max_chars"
        ) from None


# sends (item, its fields by API name) pairs; a result per pair, in order
SendFields = Callable[[list[tuple[WriteItem, dict[str, Any]]]], Sequence[WriteResult]]


def push_fields(
    fields: WriteFields,
    items: Sequence[WriteItem],
    send: SendFields,
    refusal: Callable[[list[str]], str],
) -> list[WriteResult]:
    """Field writes by logical name (`payload["fields"]`), sent by API name; an item with a
    field the map does not write is refused unsent (FIELD_NOT_WRITABLE, `refusal` says why).
    Results in input order."""
    results: dict[int, WriteResult] = {}
    sendable: list[tuple[int, WriteItem, dict[str, Any]]] = []
    for n, item in enumerate(items):
        values = item.payload["fields"]
        if outside := fields.refused(values):
            error = Fatal(refusal(outside), code="FIELD_NOT_WRITABLE")
            results[n] = WriteResult.failure(item.target_id, error)
        else:
            sendable.append((n, item, fields.to_api(values)))
    if sendable:
        answers = send([(item, api) for _, item, api in sendable])
        results.update({n: r for (n, _, _), r in zip(sendable, answers, strict=True)})
    return [results[n] for n in range(len(items))]
