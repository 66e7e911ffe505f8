"""Repeated-issue grouping: tags and subject similarity, stable signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from escalation.clusters import TicketFact, find_clusters, jaccard, signature_keys, subject_words

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def t(i: int, subject: str, tags: list[str] | None = None) -> TicketFact:
    return TicketFact(
        helpdesk_id=i, subject=subject, status="open", tags=tags or [], created_at=T0 + timedelta(i)
    )


def test_subject_words_drop_stopwords_and_noise():
    assert subject_words("RE: Export to CSV fails again!! #123") == {"export", "csv", "fails"}


def test_similar_subjects_group_and_different_ones_do_not():
    tickets = [
        t(1, "Export to CSV fails"),
        t(2, "CSV export fails on large files"),
        t(3, "Export fails: CSV"),
        t(4, "Change billing contact"),
        t(5, "Billing contact update"),
    ]
    (cluster,) = find_clusters(tickets, min_tickets=3, similarity=0.5)
    assert cluster.ticket_ids == [1, 2, 3]
    assert cluster.signature == "subj-csv-export"  # three-way tie: alphabetical


def test_signature_is_stable_when_a_ticket_joins():
    base = [t(1, "Export to CSV fails"), t(2, "CSV export fails"), t(3, "Export fails CSV")]
    before = find_clusters(base, min_tickets=3, similarity=0.5)[0].signature
    after = find_clusters(
        [*base, t(4, "CSV export fails for admins")], min_tickets=3, similarity=0.5
    )[0].signature
    assert before == after


def test_shared_specific_tag_groups_but_ignored_tags_do_not():
    tickets = [t(1, "a b", ["sso", "vip"]), t(2, "c d", ["sso"]), t(3, "e f", ["sso", "vip"])]
    (cluster,) = find_clusters(tickets, min_tickets=3, similarity=0.5, ignore_tags=["vip"])
    assert cluster.signature == "tag-sso"
    only_generic = [t(1, "a b", ["vip"]), t(2, "c d", ["vip"]), t(3, "e f", ["vip"])]
    assert find_clusters(only_generic, min_tickets=3, similarity=0.5, ignore_tags=["VIP"]) == []


@given(st.lists(st.text(max_size=40), max_size=12), st.integers(min_value=2, max_value=5))
def test_clusters_partition_tickets_and_respect_min_size(subjects, min_tickets):
    tickets = [t(i, s) for i, s in enumerate(subjects)]
    clusters = find_clusters(tickets, min_tickets=min_tickets, similarity=0.5)
    seen = [i for c in clusters for i in c.ticket_ids]
    assert len(seen) == len(set(seen))
    assert all(len(c.ticket_ids) >= min_tickets for c in clusters)


@given(st.text(max_size=30), st.text(max_size=30))
def test_jaccard_is_symmetric_and_bounded(a, b):
    wa, wb = subject_words(a), subject_words(b)
    assert jaccard(wa, wb) == jaccard(wb, wa)
    assert 0.0 <= jaccard(wa, wb) <= 1.0


def test_poisson_tail_matches_known_values():
    from escalation.clusters import poisson_tail

    assert poisson_tail(0, 2.0) == 1.0
    assert round(poisson_tail(3, 0.3), 4) == 0.0036
    assert round(poisson_tail(8, 2.5), 4) == 0.0042
    assert poisson_tail(5, 1.0) < poisson_tail(4, 1.0) < poisson_tail(4, 2.0)


def test_count_matching_uses_tags_and_subjects():
    from escalation.clusters import count_matching

    members = [t(1, "Export to CSV fails", ["data_export"]), t(2, "CSV export fails")]
    others = [t(3, "anything", ["data_export"]), t(4, "CSV export fails today"), t(5, "Invoice")]
    assert count_matching(members, others, similarity=0.5) == 2


def test_signature_keys_cover_the_signature_a_cluster_gets():
    tickets = [t(1, "Export to CSV fails"), t(2, "CSV export fails"), t(3, "Export fails CSV")]
    (cluster,) = find_clusters(tickets, min_tickets=3, similarity=0.5)
    assert cluster.signature in signature_keys("CSV export fails", [])
    tagged = find_clusters(
        [t(i, f"s{i} words", ["SSO", "urgent"]) for i in range(3)],
        min_tickets=3,
        similarity=0.5,
        ignore_tags=["urgent"],
    )[0]
    keys = signature_keys("s0 words", ["SSO", "urgent"], ignore_tags=["urgent"])
    assert tagged.signature in keys and "tag-urgent" not in keys


def test_a_book_of_distinct_subjects_holds_a_bounded_cache() -> None:
    """Real subjects are mostly distinct: reading 20,000 of them keeps a few MiB of words and
    signatures, not every subject's (~90 MiB before the caches were bounded)."""
    import gc
    import random
    import string
    import tracemalloc

    from escalation import clusters

    rng = random.Random(7)
    vocab = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(5000)
    ]
    subjects = [" ".join(rng.choices(vocab, k=rng.randint(4, 9))) for _ in range(20_000)]
    clusters.subject_words.cache_clear()
    clusters._signature_keys.cache_clear()
    gc.collect()
    tracemalloc.start()
    try:
        for subject in subjects:
            signature_keys(subject, ["billing"])
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 20 * 2**20, f"{held / 2**20:.1f} MiB held"
    assert signature_keys(subjects[-1], ["billing"]) == signature_keys(subjects[-1], ("billing",))
