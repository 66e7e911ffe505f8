"""Any churn table as audit and fit input: a CSV plus a YAML map of its columns.

The map names the label column (encodings 0/1, 1.0/0.0, yes/no, true/false, churned/retained,
lost/won, or your own `churned_values`), an optional id, segment, existing score and date
columns, the columns that are pulsehub signals, and other feature columns (numeric or
categorical). Example:

    label: Churn                      # required
    id: customerID
    segment: Contract
    score: {column: health, higher_is_riskier: false}
    signals: {active_users_per_seat: seat_use, csat: csat_good_share}
    numeric: [tenure, MonthlyCharges, TotalCharges]
    categorical: [Contract, InternetService, PaymentMethod]
    dates: {snapshot: scored_on, churned_on: churn_date, format: "%Y-%m-%d"}
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.errors import ConfigError
from scoring.signals import MEASURE_NAMES

TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t", "churned", "churn", "lost"})
FALSE = frozenset({"0", "0.0", "false", "no", "n", "f", "retained", "renewed", "won", "active"})


class TableError(ConfigError):
    """A table or map that cannot be used; the message names the file, the key and the fix."""


class ScoreColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    higher_is_riskier: bool = False


class Dates(BaseModel):
    model_config = ConfigDict(extra="forbid")
    snapshot: str
    churned_on: str
    format: str = "%Y-%m-%d"


class TableMap(BaseModel):
    """What each column of the table means."""

    model_config = ConfigDict(extra="forbid")
    label: str
    churned_values: list[str] = []
    id: str | None = None
    segment: str | None = None
    score: ScoreColumn | None = None
    signals: dict[str, str] = {}
    numeric: list[str] = []
    categorical: list[str] = []
    dates: Dates | None = None
    max_rows: int = Field(500_000, gt=0)


@dataclass(slots=True)
class Table:
    """Rows read through a map: features by name, labels, ids, segments, scores, lead days."""

    source: str
    features: list[dict[str, Any]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    segments: list[str | None] = field(default_factory=list)
    scores: list[float | None] = field(
        default_factory=list
    )  # the table's own score, riskier = higher
    lead_days: list[float | None] = field(default_factory=list)  # churned rows: churn - snapshot
    skipped: dict[str, int] = field(default_factory=dict)


def load_map(path: Path) -> TableMap:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise TableError(f"{path}: cannot read ({exc.strerror}) — fix the path") from None
    except yaml.YAMLError as exc:
        raise TableError(f"{path}: not valid YAML ({exc}) — fix the syntax") from None
    try:
        table_map = TableMap.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid table map {path}:"]
        for err in exc.errors():
            lines.append(f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']} — fix the value")
        raise TableError("\n".join(lines)) from None
    unknown = sorted(set(table_map.signals) - MEASURE_NAMES)
    if unknown:
        raise TableError(
            f"{path}: signals.{unknown[0]}: not a pulsehub signal — use one of "
            f"{', '.join(sorted(MEASURE_NAMES))}, or list the column under numeric"
        )
    return table_map


def read_table(path: Path, table_map: TableMap) -> Table:
    """Read the CSV through the map; a bad label stops with the row number and the fix."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            _check_columns(path, header, table_map)
            rows = [row for _, row in zip(range(table_map.max_rows), reader, strict=False)]
    except OSError as exc:
        raise TableError(f"{path}: cannot read ({exc.strerror}) — fix the path") from None
    churned = {v.strip().lower() for v in table_map.churned_values} or TRUE
    out = Table(str(path))
    for n, row in enumerate(rows, start=2):
        text = (row.get(table_map.label) or "").strip().lower()
        if text not in churned and text not in FALSE:
            raise TableError(
                f"{path}:{n}: label {table_map.label}={text!r} is not an outcome — use 1/0, "
                "1.0/0.0, yes/no, true/false or churned/retained, or list it under churned_values"
            )
        features: dict[str, Any] = {
            c: row.get(c) for c in table_map.numeric + table_map.categorical
        }
        features.update({sig: row.get(col) for sig, col in table_map.signals.items()})
        out.features.append(features)
        out.labels.append(int(text in churned))
        raw_id = (row.get(table_map.id) or "") if table_map.id else ""
        out.ids.append(_stable_id(raw_id, n))
        out.segments.append((row.get(table_map.segment) or None) if table_map.segment else None)
        out.scores.append(_score(row, table_map.score))
        out.lead_days.append(_lead(row, table_map.dates))
    return out


def _check_columns(path: Path, header: Sequence[str], m: TableMap) -> None:
    wanted = [m.label, *m.numeric, *m.categorical, *m.signals.values()]
    wanted += [c for c in (m.id, m.segment) if c]
    if m.score:
        wanted.append(m.score.column)
    if m.dates:
        wanted += [m.dates.snapshot, m.dates.churned_on]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise TableError(
            f"{path}: no column {missing[0]!r} (named in the map) — columns are: {', '.join(header)}"
        )


def _stable_id(raw: str, line: int) -> int:
    """The row's account id: numeric ids as they are, others hashed stably, else the line."""
    if raw.strip().isdigit():
        return int(raw.strip())
    return int(hashlib.sha1(raw.encode()).hexdigest()[:15], 16) if raw else line


def _score(row: dict[str, Any], spec: ScoreColumn | None) -> float | None:
    if spec is None:
        return None
    try:
        value = float((row.get(spec.column) or "").strip())
    except ValueError:
        return None
    return value if spec.higher_is_riskier else -value


def _lead(row: dict[str, Any], dates: Dates | None) -> float | None:
    if dates is None:
        return None
    try:
        start = dt.datetime.strptime((row.get(dates.snapshot) or "").strip(), dates.format)
        end = dt.datetime.strptime((row.get(dates.churned_on) or "").strip(), dates.format)
    except ValueError:
        return None
    return float((end - start).days)
