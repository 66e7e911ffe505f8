"""Run summaries in the terminal read as words, never as Python dicts."""

from __future__ import annotations

from pulsehub.report import words


def test_counts_read_as_words() -> None:
    text = words({"open_sev1": 4, "actions": 1200, "batches": {"sf_task": 1, "zd_ticket": 2}})
    assert text == "open sev1: 4, actions: 1,200, batches (sf task: 1, zd ticket: 2)"
    assert "{" not in text and "'" not in text
