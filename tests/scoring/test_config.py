"""Scorecard loading: the shipped default is valid, bad files fail with file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scoring.config import DEFAULT_SCORECARD, ScorecardError, load_scorecard, parse_scorecard


def _default() -> dict:
    return yaml.safe_load(DEFAULT_SCORECARD.read_text())


def test_default_scorecard_loads() -> None:
    card = load_scorecard()
    assert card.default_profile in card.profiles
    assert {"usage", "support"} <= set(card.groups)
    assert card.bands.red_below == 50 and card.bands.green_at == 75


def _error(raw: dict, tmp_path: Path) -> str:
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScorecardError) as exc:
        load_scorecard(path)
    return str(exc.value)


@pytest.mark.parametrize(
    ("mutate", "key", "fix"),
    [
        (lambda r: r["measures"]["csat"].pop("group"), "measures.csat.group", "add this key"),
        (lambda r: r["measures"]["csat"].update(colour="red"), "measures.csat.colour", "remove it"),
        (lambda r: r["measures"]["csat"]["normalization"].update(good=r["measures"]["csat"]["normalization"]["poor"]), "measures.csat.normalization", "fix"),
        (lambda r: r["measures"]["csat"].update(direction="lower_is_better"), "measures.csat", "contradicts"),
        (lambda r: r["measures"].update(happiness=r["measures"]["csat"]), "measures.happiness", "use one of"),
        (lambda r: r["measures"]["csat"].update(group="vibes"), "measures.csat.group", "add it to groups"),
        (lambda r: r["profiles"]["adoption"]["weights"].update(vibes=1), "profiles.adoption.weights.vibes", "use one of"),
        (lambda r: r.update(default_profile="nope"), "default_profile", "use one of"),
        (lambda r: r["bands"].update(red_below=80), "bands", "red_below"),
        (lambda r: r["contradictions"][0]["low"].update(measure="nps_x"), "contradictions.0.low.measure", "not a scorecard measure"),
        (lambda r: r["measures"]["feature_breadth"]["normalization"]["tiers"].reverse(), "measures.feature_breadth.normalization", "ascending"),
    ],
)  # fmt: skip
def test_errors_name_file_key_and_fix(tmp_path: Path, mutate, key: str, fix: str) -> None:
    raw = _default()
    mutate(raw)
    message = _error(raw, tmp_path)
    assert str(tmp_path / "card.yaml") in message
    assert key in message
    assert fix in message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ScorecardError, match="cannot read"):
        load_scorecard(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("measures: [unclosed")
    with pytest.raises(ScorecardError, match="not valid YAML"):
        load_scorecard(bad)
    with pytest.raises(ScorecardError, match="mapping"):
        parse_scorecard(["a list"])


def test_a_measure_text_with_an_unknown_placeholder_is_refused_at_load() -> None:
    raw = yaml.safe_load(DEFAULT_SCORECARD.read_text())
    name = next(iter(raw["measures"]))
    raw["measures"][name]["text"] = "{valeu} of seats"
    with pytest.raises((ValueError, ScorecardError), match=r"unknown placeholder"):
        parse_scorecard(raw)


@pytest.mark.parametrize(
    ("value", "words"), [(1, "1 urgent ticket open"), (3, "3 urgent tickets open")]
)
def test_reason_texts_agree_in_number(value: int, words: str) -> None:
    from scoring.explain import measure_text
    from tests.scoring.factories import healthy_signals

    card = load_scorecard(None)
    name = next(n for n, m in card.measures.items() if "urgent ticket" in m.text)
    assert measure_text(name, card.measures[name], value, healthy_signals()).startswith(words)
