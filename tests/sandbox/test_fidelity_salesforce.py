"""Issue 18, Salesforce side: plain `requests`, as a third-party client written for the real API.

Each test drives one gap: the token response's instance URL must route back through the
loopback redirect (and follow X-Forwarded-Host/Proto), describe must carry every key the real
DescribeSObjectResult carries, and injected bad records must be served, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from connectors.loopback import LoopbackRedirect
from sandbox import Sandbox
from sandbox import credentials as cred
from tests.sandbox.conftest import NOW

V = "/services/data/v59.0"
DESCRIBE_KEYS = {  # the list: keys the real describe always sends
    "labelPlural",
    "layoutable",
    "activateable",
    "searchable",
    "childRelationships",
    "customSetting",
    "deprecatedAndHidden",
    "feedEnabled",
    "mergeable",
    "recordTypeInfos",
    "replicateable",
    "retrieveable",
    "undeletable",
    "triggerable",
    "name",
    "label",
    "keyPrefix",
    "fields",
    "urls",
}
URL_KEYS = {
    "sobject",
    "describe",
    "rowTemplate",
    "uiEditTemplate",
    "uiDetailTemplate",
    "uiNewRecord",
}
FIELD_KEYS = {
    "calculated",
    "unique",
    "nameField",
    "externalId",
    "idLookup",
    "soapType",
    "deprecatedAndHidden",
    "autoNumber",
    "defaultedOnCreate",
    "digits",
    "groupable",
    "restrictedPicklist",
    "namePointing",
    "htmlFormatted",
    "dependentPicklist",
    "writeRequiresMasterRead",
    "name",
    "type",
    "updateable",
    "nillable",
    "referenceTo",
    "picklistValues",
}


def loopback_session(box: Sandbox) -> requests.Session:
    """What a user does to test an existing integration: every https call goes to the sandbox."""
    session = requests.Session()
    session.mount("https://", LoopbackRedirect(box.base_url))
    return session


def _token(session: requests.Session, url: str, **headers: str) -> dict[str, Any]:
    resp = session.post(
        url,
        data={"grant_type": "client_credentials"},
        auth=(cred.SF_CONSUMER_KEY, cred.SF_CONSUMER_SECRET),
        headers=headers,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=8, seed=3, now=NOW) as sb:
        yield sb


def test_token_instance_url_is_the_my_domain_and_routes_back(box: Sandbox) -> None:
    session = loopback_session(box)
    # Host as a client that names the login server sends it, and as the redirect leaves it
    for headers in ({"Host": "login.salesforce.com"}, {}):
        token = _token(session, "https://login.salesforce.com/services/oauth2/token", **headers)
        host = urlsplit(token["instance_url"]).hostname or ""
        assert token["instance_url"].startswith("https://")
        assert host.endswith(".my.salesforce.com"), token["instance_url"]
        assert host not in ("login.salesforce.com", "127.0.0.1")
        limits = session.get(
            f"{token['instance_url']}{V}/limits/",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        assert limits.status_code == 200 and "DailyApiRequests" in limits.json()
    soap = session.post(
        "https://login.salesforce.com/services/Soap/u/59.0",
        data=(
            "<Envelope><Body><login><username>"
            f"{cred.SF_USERNAME}</username><password>{cred.SF_PASSWORD}{cred.SF_SECURITY_TOKEN}"
            "</password></login></Body></Envelope>"
        ),
        headers={"SOAPAction": "login", "Content-Type": "text/xml"},
        timeout=10,
    )
    assert f"<serverUrl>{cred.SF_INSTANCE_URL}/services/Soap/u/59.0/" in soap.text


def test_token_instance_url_follows_x_forwarded_host_and_proto(box: Sandbox) -> None:
    token = _token(
        requests.Session(),
        f"{box.base_url}/services/oauth2/token",
        **{"X-Forwarded-Host": "sf-proxy.internal:8443", "X-Forwarded-Proto": "http"},
    )
    assert token["instance_url"] == "http://sf-proxy.internal:8443"


def test_describe_carries_every_key_for_every_object(box: Sandbox) -> None:
    auth = {"Authorization": f"Bearer {cred.SF_SESSION_ID}"}
    listing = requests.get(f"{box.base_url}{V}/sobjects/", headers=auth, timeout=10).json()
    names = [o["name"] for o in listing["sobjects"]]
    assert set(names) == {"Account", "Opportunity", "Contact", "User", "Task"}
    for entry in listing["sobjects"]:
        assert {"labelPlural", "layoutable", "searchable", "triggerable"} <= set(entry)
    for name in names:
        body = requests.get(f"{box.base_url}{V}/sobjects/{name}/describe", headers=auth).json()
        assert set(body) >= DESCRIBE_KEYS, (name, DESCRIBE_KEYS - set(body))
        assert set(body["urls"]) >= URL_KEYS, (name, URL_KEYS - set(body["urls"]))
        assert body["recordTypeInfos"] and body["recordTypeInfos"][0]["master"] is True
        for field in body["fields"]:
            assert set(field) >= FIELD_KEYS, (name, field["name"], FIELD_KEYS - set(field))
    account = requests.get(f"{box.base_url}{V}/sobjects/Account/describe", headers=auth).json()
    children = {
        (c["childSObject"], c["field"]): c["relationshipName"]
        for c in account["childRelationships"]
    }
    assert children[("Contact", "AccountId")] == "Contacts"
    assert children[("Opportunity", "AccountId")] == "Opportunities"
    by_name = {f["name"]: f for f in account["fields"]}
    assert by_name["Name"]["nameField"] and by_name["Id"]["soapType"] == "tns:ID"
    assert (
        by_name["Tier__c"]["restrictedPicklist"]
        and not by_name["Health_Status__c"]["restrictedPicklist"]
    )
    assert account["urls"]["uiDetailTemplate"] == f"{cred.SF_INSTANCE_URL}/{{ID}}"


def _query(box: Sandbox, soql: str) -> requests.Response:
    return requests.get(
        f"{box.base_url}{V}/query/",
        params={"q": soql},
        headers={"Authorization": f"Bearer {cred.SF_SESSION_ID}"},
        timeout=10,
    )


def test_contact_with_null_id_is_served_not_a_500(box: Sandbox) -> None:
    contacts = box.world.sf["Contact"]
    good = {c["Id"] for c in contacts.values() if not c["IsDeleted"]}
    bad = dict(next(iter(contacts.values())), Id=None, IsDeleted=False)
    contacts["003INJECTEDNULLID"] = bad
    odd = dict(next(iter(contacts.values())), Id="003INJECTEDODDTYP", IsDeleted=False)
    odd["SystemModstamp"] = "not a datetime"
    contacts["003INJECTEDODDTYP"] = odd
    since = (NOW - dt.timedelta(days=4000)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for soql in (
        "SELECT Id, Name, SystemModstamp FROM Contact",
        "SELECT Id, Name FROM Contact ORDER BY SystemModstamp, Id",
    ):
        resp = _query(box, soql)
        assert resp.status_code == 200, resp.text
        ids = [r["Id"] for r in resp.json()["records"]]
        assert good <= set(ids) and None in ids and "003INJECTEDODDTYP" in ids
    served = next(
        r
        for r in _query(box, "SELECT Id, SystemModstamp FROM Contact").json()["records"]
        if r["Id"] == "003INJECTEDODDTYP"
    )
    assert served["SystemModstamp"] == "not a datetime"  # served as stored
    filtered = _query(box, f"SELECT Id FROM Contact WHERE SystemModstamp > {since}")
    assert filtered.status_code == 200
    assert {r["Id"] for r in filtered.json()["records"]} >= good
    wrong_literal = _query(box, "SELECT Id FROM Contact WHERE Name > 5")
    assert wrong_literal.status_code == 400
    assert wrong_literal.json()[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
