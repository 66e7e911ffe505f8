"""Voice metrics and themes on small hand-built data, where every expected number is known."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.voice_config import VoiceConfig, load_voice
from escalation.voice_routing import decide, deteriorated, period_of
from model.db import transaction
from model.tables import Account, SurveyResponse, Ticket
from reporting.voice import load_voice as load_view
from reporting.voice_scales import negativity, nps, nps_category
from reporting.voice_themes import Matcher, figures, theme_stats

AS_OF = dt.date(2026, 6, 30)


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(AS_OF, dt.time(12), dt.UTC) - dt.timedelta(days=days_ago)


def answer(
    n: int, account: int, kind: str, score: float, days_ago: int, comment: str | None = None
):
    return SurveyResponse(
        source="usage", external_id=f"sv{n}", kind=kind, score=score, comment=comment,
        responded_at=at(days_ago), account_id=account, workspace_id=f"ws{account}",
    )  # fmt: skip


def test_nps_categories_and_score_by_hand() -> None:
    scores = [10, 9, 9, 8, 7, 6, 3, 0, 10, 5]  # promoters 4, passives 2, detractors 4
    cats = [nps_category(s) for s in scores]
    assert cats.count("promoter") == 4 and cats.count("passive") == 2
    assert nps(4, 2, 4) == 0.0
    assert nps(6, 3, 1) == 50.0  # (6 - 1) / 10
    assert nps(1, 1, 1) == 0.0 and nps(0, 0, 0) is None
    assert nps(2, 0, 1) == 33.3
    assert negativity("nps", 6) == 1 and negativity("nps", 8) == 0.5 and negativity("nps", 9) == 0
    assert negativity("ces", 1) == 1 and negativity("ces", 7) == 0 and negativity("ces", 4) == 0.5
    assert negativity("csat", 5) == 0 and negativity("csat", 2) == 0.75


def test_matching_uses_whole_words_phrases_and_tags() -> None:
    m = Matcher(load_voice())
    assert m.themes("The dashboard times out every morning") == ["performance"]
    assert m.themes("Sloweth is not a word") == []  # whole words only
    assert "billing" in m.themes("We were charged twice")
    assert m.themes("Need help", ["billing", "health_red"]) == ["billing"]
    assert set(m.themes("Reports are slow")) == {"performance", "reporting"}


def test_monthly_trend_splits_csat_from_tickets_and_segments(factory) -> None:
    with transaction(factory) as s:
        s.add_all([Account(id=1, name="Big", arr=500_000, segment="Enterprise"),
                   Account(id=2, name="Small", arr=10_000, segment="SMB")])  # fmt: skip
        s.flush()
        s.add_all([
            # June 2026: NPS 10, 9, 7, 3 -> 2 promoters, 1 passive, 1 detractor -> NPS 25
            answer(1, 1, "nps", 10, 1), answer(2, 1, "nps", 9, 2), answer(3, 2, "nps", 7, 3),
            answer(4, 2, "nps", 3, 4),
            # May 2026: one detractor -> NPS -100
            answer(5, 2, "nps", 0, 40),
            # CES June: 6 and 3 -> mean 4.5, one easy of two
            answer(6, 1, "ces", 6, 5), answer(7, 2, "ces", 3, 6),
            # CSAT June: a survey 4 (satisfied) and a survey 2
            answer(8, 1, "csat", 4, 7), answer(9, 2, "csat", 2, 8),
        ])  # fmt: skip
        s.add_all([  # helpdesk ratings in June: good, good, bad; one unrated ticket
            Ticket(source="zendesk", helpdesk_id=n, account_id=1, status="solved", created_at=at(9), updated_at=at(9),
                   csat=c, csat_at=at(9) if c else None)
            for n, c in ((1, "good"), (2, "good"), (3, "bad"), (4, None))
        ])  # fmt: skip
    with factory() as s:
        v = load_view(s, load_voice(), AS_OF, suggest=False)
    june = v.monthly[-1]
    assert june["month"] == "2026-06"
    assert (june["promoters"], june["passives"], june["detractors"]) == (2, 1, 1)
    assert june["nps"] == 25.0 and june["nps_responses"] == 4
    assert june["ces"] == 4.5 and june["ces_easy"] == 0.5
    assert june["csat"] == 0.6 and june["csat_responses"] == 5  # 3 satisfied of 5
    assert june["accounts_responding"] == 2 and june["coverage"] == 1.0
    assert v.monthly[-2]["nps"] == -100.0
    assert v.by_segment["Enterprise"]["nps"] == 100.0  # 10 and 9
    assert v.by_segment["SMB"]["nps"] == -50.0  # a passive 7, a detractor 3 (the 0 is older)


def test_impact_weights_by_arr_so_a_vocal_small_account_does_not_outweigh_the_base(factory) -> None:
    config = load_voice()
    with transaction(factory) as s:
        s.add_all([Account(id=1, name="Big", arr=500_000), Account(id=2, name="Vocal", arr=10_000),
                   Account(id=3, name="Other", arr=40_000)])  # fmt: skip
        s.flush()
        # the small account complains about billing 20 times (detractors, negativity 1)
        s.add_all(answer(100 + n, 2, "nps", 2, n % 20, "The invoice is wrong") for n in range(20))
        # the large account says once, as a passive (0.5), that the app is slow; and it also
        # files two unrated slow-page tickets (0.25 each): its strongest negativity counts, once
        s.add(answer(1, 1, "nps", 8, 3, "Pages are slow"))
        s.add_all(
            Ticket(source="zendesk", helpdesk_id=n, account_id=1, status="open", subject="Pages are slow",
                   created_at=at(2), updated_at=at(2))
            for n in (1, 2)
        )  # fmt: skip
        # the previous period: one detractor on performance from account 3
        s.add(answer(2, 3, "nps", 4, 40, "So slow"))
    with factory() as s:
        stats, _ = theme_stats(s, config, AS_OF, stored=None)
        figs = {f.theme: f for f in figures(stats)}
    billing, perf = figs["billing"], figs["performance"]
    assert billing.volume == 20 and billing.accounts == 1
    assert billing.affected_arr == 10_000 and billing.impact == 10_000  # 10,000 x 1, once
    assert perf.volume == 3 and perf.accounts == 1
    assert perf.affected_arr == 500_000 and perf.impact == 250_000  # 500,000 x max(0.5, 0.25)
    assert perf.impact_before == 40_000 and perf.volume_before == 1
    assert next(iter(figs)) == "performance"  # ranked by impact, not by volume
    assert perf.top_account_id == 1


def test_thresholds_need_several_accounts_and_a_real_rise() -> None:
    config = VoiceConfig.model_validate({
        "themes": {"speed": {"label": "Speed", "keywords": ["slow"]}},
        "thresholds": {"min_accounts": 3, "impact_rise": 0.1, "impact_growth": 1.5,
                       "detractor_points": 20, "min_responses": 5},
        "routing": [{"theme": "speed", "owner": {"name": "Eng lead"}}],
    })  # fmt: skip

    class F:
        theme, label, top_segment = "speed", "Speed", None
        accounts, affected_arr, impact, impact_before = 3, 300_000.0, 200_000.0, 100_000.0
        detractor_share, detractor_share_before, nps_mentions = 50.0, 40.0, 8
        nps_mentions_before = 6

    f = F()
    assert deteriorated(f, 1_000_000, config) is not None  # up 10% of the book, to 2x
    assert deteriorated(f, 2_000_000, config) is None  # up only 5% of a larger book
    f.impact_before = 150_000.0
    assert deteriorated(f, 1_000_000, config) is None  # only 1.33x
    f.detractor_share_before = 25.0
    assert "detractors 50%" in (deteriorated(f, 1_000_000, config) or "")  # +25 points
    f.nps_mentions_before = 2
    assert deteriorated(f, 1_000_000, config) is None  # too few answers before to compare
    f.nps_mentions_before = 6
    f.accounts = 2
    assert deteriorated(f, 1_000_000, config) is None  # too few accounts, however loud
    f.accounts, f.impact_before = 3, 0.0
    alerts = decide([f], 1_000_000, config, AS_OF)
    assert [(a.theme, a.period, a.owner and a.owner.name) for a in alerts] == [
        ("speed", "2026-06", "Eng lead")
    ]
    assert alerts[0].key == "voice:speed:2026-06" and period_of(AS_OF) == "2026-06"


def test_a_bad_voice_file_names_the_file_the_key_and_the_fix(tmp_path) -> None:
    from connectors.errors import ConfigError

    bad = tmp_path / "voice.yaml"
    bad.write_text("themes:\n  speed: {label: Speed}\nrouting:\n  - theme: sped\n")
    with pytest.raises(ConfigError) as err:
        load_voice(bad)
    text = str(err.value)
    assert str(bad) in text and "themes.speed" in text and "PULSEHUB_VOICE_FILE" in text
    bad.write_text(
        "themes:\n  speed: {label: Speed, keywords: [slow]}\nrouting:\n  - theme: sped\n"
    )
    with pytest.raises(ConfigError, match="routing\\[0\\] names theme 'sped'"):
        load_voice(bad)


def test_suggested_themes_group_the_unmatched_texts_by_their_words() -> None:
    from escalation.voice_config import Suggest
    from reporting.voice_suggest import suggest_themes

    texts = (
        ["mobile app crashes on android", "the mobile app crashes offline",
         "mobile app push notifications missing", "android mobile app freezes"] * 3
        + ["need an audit log export", "audit log lacks user names", "audit log retention",
           "where is the audit log"] * 2
        + ["thanks"]
    )  # fmt: skip
    found = suggest_themes(texts, Suggest(clusters=3, min_size=4))
    tops = [set(s.terms) for s in found]
    assert any("mobile app" in t or "mobile" in t for t in tops)
    assert any("audit log" in t or "audit" in t for t in tops)
    assert all(s.size >= 4 for s in found)
    assert suggest_themes(["one", "two"], Suggest()) == []  # too few to cluster


def test_negativity_in_sql_is_the_same_float_as_in_python(factory) -> None:
    from sqlalchemy import literal, select

    from reporting.voice_scales import negativity_sql, ticket_negativity, ticket_negativity_sql

    grid = [("nps", float(s)) for s in range(11)] + [("nps", 6.5), ("nps", 8.9)]
    grid += [("ces", s / 2) for s in range(0, 17)] + [("csat", s / 4) for s in range(0, 25)]
    with factory() as s:
        for kind, score in grid:
            sql = s.scalar(select(negativity_sql(literal(kind), literal(score))))
            assert sql == negativity(kind, score), (kind, score)
        for csat in ("good", "bad", "offered", None):
            assert s.scalar(select(ticket_negativity_sql(literal(csat)))) == ticket_negativity(csat)
