"""The operations file: the shipped default loads; a bad one fails naming file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.errors import ConfigError
from csops.config import DEFAULT_CSOPS_FILE, load_csops


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "csops.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_default_follows_handoff_to_advocacy() -> None:
    config = load_csops()
    assert [p.name for p in config.onboarding.phases] == [
        "Handoff", "Quick wins", "Adoption", "Optimization", "Advocacy",
    ]  # fmt: skip
    assert config.onboarding.phases[-1].target_days is None
    assert [i.name for i in config.handoff.checklist][:2] == ["Success plan", "Objectives"]
    assert config.workload.write_owner is False


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["onboarding"]["phases"][1]["exit"][0].update(op="~="), "onboarding.phases.1.exit.0.op"),
        (lambda d: d["onboarding"]["phases"][0].update(target_days=0), "onboarding.phases.0.target_days"),
        (lambda d: d["handoff"]["checklist"][0].update(contact_roles=["Admin"]), "handoff.checklist.0"),
        (lambda d: d["workload"].update(tolerence=0.1), "workload.tolerence"),
        (lambda d: d["onboarding"]["phases"][-1].update(exit=[{"field": "x"}]), "onboarding"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_and_the_key(tmp_path: Path, edit, key: str) -> None:
    data = yaml.safe_load(DEFAULT_CSOPS_FILE.read_text())
    edit(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_csops(path)
    assert str(path) in str(err.value) and f"key '{key}" in str(err.value)
    assert "fix the key" in str(err.value)


def test_a_missing_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PULSEHUB_CSOPS_FILE"):
        load_csops(tmp_path / "nope.yaml")
