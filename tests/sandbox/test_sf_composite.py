"""The Salesforce Composite resource as the sandbox serves it: several queries in one call
against the daily limit, each subrequest with its own status and body, the documented caps."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred

V = "/services/data/v59.0"


def _client(sb: Sandbox) -> httpx.Client:
    headers = {"Authorization": f"Bearer {cred.SF_SESSION_ID}"}
    return httpx.Client(base_url=sb.base_url, headers=headers)


def _query(ref: str, soql: str, *, all_rows: bool = False, **extra: Any) -> dict[str, Any]:
    kind = "queryAll" if all_rows else "query"
    return {"method": "GET", "url": f"{V}/{kind}/?{urlencode({'q': soql})}",
            "referenceId": ref, **extra}  # fmt: skip


def test_queries_in_one_call_match_their_own_answers(fresh: Sandbox) -> None:
    soqls = ["SELECT Id, Name FROM Account ORDER BY Id", "SELECT Id FROM Contact ORDER BY Id"]
    with _client(fresh) as client:
        alone = [client.get(f"{V}/query/", params={"q": q}).json() for q in soqls]
        used = fresh.limits.sf_used
        got = client.post(f"{V}/composite", json={
            "compositeRequest": [_query(f"r{i}", q) for i, q in enumerate(soqls)]
        })  # fmt: skip
    assert got.status_code == 200
    assert fresh.limits.sf_used == used + 1  # the whole series is one call
    results = got.json()["compositeResponse"]
    assert [r["referenceId"] for r in results] == ["r0", "r1"]
    assert [r["httpStatusCode"] for r in results] == [200, 200]
    for result, expected in zip(results, alone, strict=True):
        assert result["body"]["totalSize"] == expected["totalSize"]
        assert [r["Id"] for r in result["body"]["records"]] == [
            r["Id"] for r in expected["records"]
        ]


def test_a_bad_subrequest_fails_alone_and_batch_size_is_honoured(fresh: Sandbox) -> None:
    with _client(fresh) as client:
        got = client.post(f"{V}/composite", json={"compositeRequest": [
            _query("bad", "SELECT Nope__c FROM Account"),
            _query("ok", "SELECT Id FROM Contact", all_rows=True,
                   httpHeaders={"Sforce-Query-Options": "batchSize=200"}),
            {"method": "PATCH", "url": f"{V}/sobjects/Account/001", "referenceId": "w"},
        ]}).json()["compositeResponse"]  # fmt: skip
    bad, ok, write = got
    assert bad["httpStatusCode"] == 400 and bad["body"][0]["errorCode"] == "INVALID_FIELD"
    assert ok["httpStatusCode"] == 200 and len(ok["body"]["records"]) <= 200
    if not ok["body"]["done"]:  # the next batch is the usual locator, readable on its own
        with _client(fresh) as client:
            more = client.get(ok["body"]["nextRecordsUrl"])
        assert more.status_code == 200 and more.json()["records"]
    assert write["httpStatusCode"] == 400 and write["body"][0]["errorCode"] == "NOT_SUPPORTED"


@pytest.mark.parametrize(
    ("subs", "says"),
    [
        ([_query(f"q{i}", "SELECT Id FROM Account") for i in range(6)], "at most 5"),
        ([_query("same", "SELECT Id FROM Account")] * 2, "unique"),
        ([], "non-empty"),
    ],
)
def test_the_documented_caps_refuse_the_whole_request(
    fresh: Sandbox, subs: list[dict[str, Any]], says: str
) -> None:
    with _client(fresh) as client:
        got = client.post(f"{V}/composite", json={"compositeRequest": subs})
    assert got.status_code == 400 and says in got.json()[0]["message"]
