"""Run summaries in the terminal read as words, never as Python dicts."""

from __future__ import annotations

from pulsehub.report import words


def test_counts_read_as_words() -> None:
    text = words(
        {"open_sev1": 4, "actions": 1200, "batches": {"crm_task": 1, "helpdesk_ticket": 2}}
    )
    assert text == "open sev1: 4, actions: 1,200, batches (crm task: 1, helpdesk ticket: 2)"
    assert "{" not in text and "'" not in text
