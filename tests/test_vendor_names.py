"""No vendor name in the vendor-neutral packages: model/, sync/, scoring/, escalation/.

Vendors are named in connectors/ (and the sandbox), nowhere else. Migrations are history (they
rename the old vendor columns, so they name them) and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "sync", "scoring", "escalation", "csops")
SUFFIXES = (".py", ".yaml")
# `__c\b`: a custom field's suffix (Health_Score__c), not a dunder (__call__)
VENDOR = re.compile(r"zendesk|salesforce|__c\b|\bsf_|\bzd_", re.IGNORECASE)
HISTORY = "model/migrations/versions/"


def _checked_files() -> list[str]:
    return sorted(
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.suffix in SUFFIXES and not p.relative_to(ROOT).as_posix().startswith(HISTORY)
    )


def _vendor_lines(rel: str) -> list[str]:
    lines = (ROOT / rel).read_text().splitlines()
    return [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(lines, 1) if VENDOR.search(line)]


def test_no_vendor_names_in_the_neutral_packages() -> None:
    found = [hit for rel in _checked_files() for hit in _vendor_lines(rel)]
    assert not found, "vendor names outside connectors/:\n" + "\n".join(found)
