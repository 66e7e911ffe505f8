"""A person edits a pulsehub-owned Salesforce field: 'own' leaves the edit, 'reassert' restores."""

from __future__ import annotations

import pytest

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox


@pytest.mark.parametrize(("policy", "rewritten"), [("own", False), ("reassert", True)])
def test_hand_edit_of_an_owned_field(tmp_path, policy: str, rewritten: bool) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    upgrade(url)
    with Sandbox(accounts=25, seed=8) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url, writeback_policy=policy))
        assert rt.sync().errors == []
        written = next(w for w in sb.writes if w["kind"] == "account_fields")
        crm_id, status = written["target_id"], written["changes"]["Health_Status__c"]
        edited = "Green" if status != "Green" else "Red"
        rt.connectors["salesforce"].sf.Account.update(crm_id, {"Health_Status__c": edited})
        before = len(sb.writes)
        second = rt.sync()
        assert second.errors == []
        again = [
            w
            for w in sb.writes[before:]
            if w["kind"] == "account_fields" and w["target_id"] == crm_id
        ]
        if rewritten:
            assert again and again[0]["changes"] == {"Health_Status__c": status}
        else:
            assert again == []
        third_before = len(sb.writes)
        assert rt.sync().errors == []
        assert [w for w in sb.writes[third_before:] if w["kind"] == "account_fields"] == []
        rt.close()
