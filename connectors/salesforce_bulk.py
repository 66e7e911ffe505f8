"""Bulk API 2.0 query for large orgs: one job, CSV result pages parsed into row dicts."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from connectors.http import classified

if TYPE_CHECKING:
    from connectors.salesforce import SalesforceConnector

logger = logging.getLogger(__name__)


def parse_csv(text: str) -> list[dict[str, Any]]:
    """CSV result rows as dicts; empty cells become None (Bulk API writes nulls as '')."""
    reader = csv.DictReader(io.StringIO(text))
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]


def bulk_rows(
    connector: SalesforceConnector,
    sobject: str,
    soql: str,
    include_deleted: bool,
    page_size: int,
) -> Iterator[list[dict[str, Any]]]:
    """Run a Bulk 2.0 query job and yield its result pages as rows.

    The job itself is not retried mid-stream (its result locators are single-use); a
    failure is classified and raised, and sync resumes from the last committed cursor.
    """
    job = getattr(connector.sf.bulk2, sobject)
    run = job.query_all if include_deleted else job.query
    logger.info("bulk 2.0 %s on %s", "queryAll" if include_deleted else "query", sobject)
    pages = run(soql, max_records=page_size, wait=connector.bulk_poll_wait)
    next_page = classified(lambda: next(pages))
    while True:
        connector.check_budget()
        connector.calls += 1
        try:
            text = next_page()
        except StopIteration:
            return
        yield parse_csv(str(text))
