"""Salesforce response shapes against the REST API developer guide (Query, sObject Collections, error responses): keys and JSON types."""

from __future__ import annotations

import httpx

from sandbox import Sandbox
from sandbox import credentials as cred


def test_salesforce_envelopes_and_errors(sb: Sandbox) -> None:
    auth = {"Authorization": f"Bearer {cred.SF_SESSION_ID}"}
    with httpx.Client(base_url=sb.base_url, headers=auth) as sf:
        _salesforce_envelopes_and_errors(sb, sf)


def _salesforce_envelopes_and_errors(sb: Sandbox, sf: httpx.Client) -> None:
    page = sf.get(
        "/services/data/v59.0/query/",
        params={"q": "SELECT Id FROM Contact"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert set(page) == {"totalSize", "done", "nextRecordsUrl", "records"}
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert set(page["records"][0]) == {"attributes", "Id"}
    assert set(page["records"][0]["attributes"]) == {"type", "url"}
    bad = sf.get("/services/data/v59.0/query/", params={"q": "SELEKT Id FROM Account"})
    assert bad.status_code == 400
    assert [set(e) for e in bad.json()] == [{"message", "errorCode"}]
    assert bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
    nope = sf.get("/services/data/v59.0/sobjects/Widget/describe")
    assert nope.status_code == 404 and nope.json()[0]["errorCode"] == "NOT_FOUND"
    unauth = httpx.get(f"{sb.base_url}/services/data/v59.0/limits")
    assert unauth.status_code == 401 and "sforce-limit-info" in unauth.headers
    out = sf.patch(
        "/services/data/v59.0/composite/sobjects",
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Account"},
                    "id": "001000000000000AAA",
                    "Health_Score__c": 1,
                }
            ],
        },
    )
    assert out.status_code == 200
    assert out.json() == [
        {
            "id": "001000000000000AAA",
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": [],
                }
            ],
        }
    ]
    big = sf.patch("/services/data/v59.0/composite/sobjects", json={"records": [{}] * 201})
    assert big.status_code == 400 and big.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
