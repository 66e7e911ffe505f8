"""Opt-in owner write-back: the assignment rules' owners reach the sandbox's crm once; a dry run
previews them and writes nothing; off by default (nothing is written)."""

from __future__ import annotations

import pytest
import yaml

from connectors.salesforce_fields import DEFAULT_PATH as FIELDS_FILE
from csops.config import DEFAULT_CSOPS_FILE
from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox


def owner_writes(sb) -> list[dict]:
    return [w for w in sb.writes if w["kind"] == "account_fields" and "OwnerId" in w["changes"]]


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=11) as sandbox:
        yield sandbox


def _runtime(sb, tmp_path, write_owner: bool) -> tuple[Runtime, str]:
    accounts = sb.world.sf["Account"].values()
    owners = sorted({a["OwnerId"] for a in accounts})
    keeper = owners[-1]
    ops = yaml.safe_load(DEFAULT_CSOPS_FILE.read_text())
    ops["workload"].update(
        write_owner=write_owner, assignment_rules=[{"segment": "Enterprise", "owners": [keeper]}]
    )
    (tmp_path / "csops.yaml").write_text(yaml.safe_dump(ops))
    fields = yaml.safe_load(FIELDS_FILE.read_text())
    fields["writable_fields"]["account_owner"] = {"api": "OwnerId"}
    (tmp_path / "fields.yaml").write_text(yaml.safe_dump(fields))
    url = f"sqlite:///{tmp_path / 'owner.db'}"
    upgrade(url)
    settings = sandbox_settings(sb.base_url, url, csops_file=tmp_path / "csops.yaml")
    salesforce = settings.salesforce.model_copy(update={"fields_file": tmp_path / "fields.yaml"})
    settings = settings.model_copy(update={"salesforce": salesforce})
    return Runtime(settings), keeper


def test_assigned_owners_are_previewed_then_written_once(sb, tmp_path) -> None:
    rt, keeper = _runtime(sb, tmp_path, write_owner=True)
    enterprise = [
        a["Id"] for a in sb.world.sf["Account"].values()
        if a["Segment__c"] == "Enterprise" and a["OwnerId"] != keeper and a["Type"] == "Customer"
        and a["ARR__c"]
    ]  # fmt: skip
    assert enterprise
    dry = rt.sync(dry_run=True)
    preview = [w for w in dry.plan_sample if any(c.field == "account_owner" for c in w.changes)]
    assert preview and not owner_writes(sb)  # shown, nothing written
    assert rt.sync().errors == []
    written = owner_writes(sb)
    assert written and {w["changes"]["OwnerId"] for w in written} == {keeper}
    assert {w["target_id"] for w in written} <= set(enterprise)
    assert all(sb.world.sf["Account"][w["target_id"]]["OwnerId"] == keeper for w in written)
    assert rt.sync().errors == []
    assert len(owner_writes(sb)) == len(written)  # once
    rt.close()


def test_owner_write_back_is_off_unless_opted_in(sb, tmp_path) -> None:
    rt, _ = _runtime(sb, tmp_path, write_owner=False)
    assert rt.sync().errors == []
    assert owner_writes(sb) == []
    rt.close()
