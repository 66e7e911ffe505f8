"""Rules YAML: the shipped default loads; bad files fail naming file, key and fix."""

from __future__ import annotations

import pytest

from escalation.config import RULE_NAMES, EscalationConfigError, load_rules


def test_default_rules_configure_every_trigger_and_switch_off_the_noisy_ones():
    config = load_rules()
    assert set(config.rules) == set(RULE_NAMES)
    # tuned on a sandbox replay: these flagged mostly accounts that did not churn
    off = {name for name in RULE_NAMES if not config.rule(name).enabled}
    assert off == {"band_yellow", "contradiction", "csat_turning_bad"}
    assert config.rule("urgent_sla_breach").per_account
    assert config.rule("repeated_issue").book_norm
    assert config.one_per_account[0] == "band_red"
    assert config.rule("repeated_issue").min_tickets == 3
    assert config.rule("renewal_review").within_days == 90
    assert config.lifecycle.review_hours == 72
    assert config.cooldown_days("contradiction") == 14
    assert config.cooldown_days("band_red") == 14
    assert set(config.owner_task.playbooks) >= {"at_risk", "critical", "renewal_review"}


def test_rule_missing_from_file_is_disabled(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  band_red: {actions: [owner_task]}\n")
    config = load_rules(path)
    assert config.rule("band_red").enabled
    assert not config.rule("score_drop").enabled


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        ("rules:\n  band_red: {min_drop: -3}\n", "rules.band_red.min_drop", "change the value"),
        ("rules:\n  band_red: {actoins: [notify]}\n", "rules.band_red.actoins", "remove it"),
        ("rules:\n  band_red: {actions: [email]}\n", "rules.band_red.actions.0", "change"),
        ("rules: {}\nlifecycle: {on_clear: maybe}\n", "lifecycle.on_clear", "change the value"),
        ("rules: {}\nseverity: {thresholds: {sev1: 3, sev2: 5, sev3: 1}}\n", "severity", "sev1 >"),
        ("lifecycle: {}\n", "rules", "add it"),
        ("rules:\n  band_purple: {}\n", "(top level)", "known rules"),
        ("rules: {}\none_per_account: [band_redd]\n", "(top level)", "known rules"),
        ("rules:\n  band_red: {min_severity: sev5}\n", "rules.band_red.min_severity", "change"),
    ],
)
def test_invalid_rules_name_file_key_and_fix(tmp_path, text, key, fix):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(EscalationConfigError) as err:
        load_rules(path)
    message = str(err.value)
    assert str(path) in message
    assert key in message
    assert fix in message


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(EscalationConfigError, match=r"cannot read.*PULSEHUB_RULES_FILE"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [unclosed\n")
    with pytest.raises(EscalationConfigError, match="not valid YAML"):
        load_rules(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(EscalationConfigError, match="expected a mapping"):
        load_rules(scalar)


def test_a_section_from_before_the_neutral_rename_names_the_section_to_use(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: {}\nzendesk:\n  group_id: 5\n")
    with pytest.raises(EscalationConfigError) as err:
        load_rules(path)
    message = str(err.value)
    assert str(path) in message and "zendesk: Extra inputs" in message
    assert "`engineering_ticket:`" in message
