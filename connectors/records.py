"""Shapes shared by every connector: a page of records, a rejected record, a write result."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from connectors.errors import ConnectorError, Retriable

R = TypeVar("R", bound=BaseModel)


def _parse_datetime(value: Any) -> Any:
    """Accept vendor timestamps ('...000+0000', 'Z', epoch seconds) as aware datetimes."""
    if isinstance(value, str) and value:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError) as exc:  # pydantic turns only ValueError into a rejection
            raise ValueError(f"epoch {value!r} out of range") from exc
    return value


def parse_iso(text: Any) -> dt.datetime | None:
    """An ISO-8601 timestamp as an aware datetime (naive means UTC); None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def blank_to_none(value: Any) -> Any:
    """Vendors send "" for an empty optional field: treat it as absent."""
    return None if value == "" else value


AwareDatetime = Annotated[dt.datetime, BeforeValidator(_parse_datetime)]
OptDatetime = Annotated[
    dt.datetime | None, BeforeValidator(blank_to_none), BeforeValidator(_parse_datetime)
]
OptDate = Annotated[dt.date | None, BeforeValidator(blank_to_none)]
OptStr = Annotated[str | None, BeforeValidator(blank_to_none)]
OptFloat = Annotated[float | None, BeforeValidator(blank_to_none)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # what a BIGINT column holds
OptInt = Annotated[Int64 | None, BeforeValidator(blank_to_none)]


class Record(BaseModel):
    """Base of every connector record: immutable, unknown vendor keys ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Rejected(BaseModel):
    """A record that failed validation; sync stores it in quarantine and the stream continues."""

    source: str
    stream: str
    external_id: str | None
    reason: str
    raw: str


class Page(BaseModel, Generic[R]):
    """One unit of work: upsert `records`, quarantine `rejected`, then save `cursor`, atomically.

    `cursor` is opaque and resumes the stream AFTER this page; None means "start over".
    """

    records: list[R] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)
    cursor: str | None = None


class WriteResult(BaseModel):
    """The outcome of one requested write, in the order the writes were requested."""

    target_id: str
    ok: bool
    retriable: bool = False
    error_code: str | None = None
    message: str | None = None
    created_id: str | None = None

    @classmethod
    def success(cls, target_id: str, created_id: str | None = None) -> WriteResult:
        return cls(target_id=target_id, ok=True, created_id=created_id)

    @classmethod
    def failure(cls, target_id: str, error: ConnectorError) -> WriteResult:
        return cls(
            target_id=target_id,
            ok=False,
            retriable=isinstance(error, Retriable),
            error_code=error.code,
            message=error.message,
        )


def validate_rows(
    model: type[R],
    rows: Iterable[dict[str, Any]],
    *,
    source: str,
    stream: str,
    id_key: str,
) -> tuple[list[R], list[Rejected]]:
    """Validate raw rows into `model`; failures become `Rejected` with the validation message."""
    records: list[R] = []
    rejected: list[Rejected] = []
    for row in rows:
        try:
            records.append(model.model_validate(row))
        except ValidationError as exc:
            raw_id = row.get(id_key) if isinstance(row, dict) else None
            rejected.append(
                Rejected(
                    source=source,
                    stream=stream,
                    external_id=None if raw_id is None else str(raw_id),
                    reason=_summarize(exc),
                    raw=json.dumps(row, default=str, sort_keys=True)[:10_000],
                )
            )
    return records, rejected


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<record>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
