"""Handoff completeness: which checklist items an account documented (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from csops.config import HandoffConfig


@dataclass(frozen=True)
class Checked:
    complete: bool
    checked: list[str]
    missing: list[str]


def is_handoff(config: HandoffConfig, before: str | None, after: str | None) -> bool:
    """A move from an implementation stage to a support stage (case and spaces ignored)."""
    norm = _norm
    return norm(before) in {norm(s) for s in config.implementation_stages} and norm(after) in {
        norm(s) for s in config.support_stages
    }


def check(
    config: HandoffConfig, fields: Mapping[str, Any], contact_roles: Iterable[str | None]
) -> Checked:
    """The checklist over the account's documented fields and its contacts' roles."""
    roles = {_norm(r) for r in contact_roles if r}
    checked: list[str] = []
    missing: list[str] = []
    for item in config.checklist:
        if item.field is not None:
            ok = fields.get(item.field) not in (None, "", [], {})
            if isinstance(fields.get(item.field), str):
                ok = bool(fields[item.field].strip())
        else:
            ok = bool(roles & {_norm(r) for r in item.contact_roles or []})
        (checked if ok else missing).append(item.name)
    return Checked(not missing, checked, missing)


def _norm(value: str | None) -> str:
    return " ".join((value or "").lower().split())
