"""Salesforce logins: SOAP `login` and the OAuth token endpoint (password, client_credentials, refresh)."""

from __future__ import annotations

import base64
import re
import secrets
import time
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox import credentials as cred
from sandbox.app import RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State

_USER_ID = "005Dn0000000000G4AAI"
_FAULT = """<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:sf="urn:fault.partner.soap.sforce.com"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>
<faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password,
 security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault">
<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username,
 password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail>
</soapenv:Fault></soapenv:Body></soapenv:Envelope>"""


ROUTES = RouteTable()


def _issue(state: State) -> str:
    token = f"{cred.SF_ORG_ID[:15]}!SB{secrets.token_hex(12)}"
    state.sf_sessions.add(token)
    return token


def instance_url(req: Request) -> str:
    """The org's instance URL, as real logins return it: the My Domain host, whatever host the
    login was sent to (a redirect sends it to 127.0.0.1, a client may say login.salesforce.com).

    A reverse proxy in front of the sandbox names the reachable host with X-Forwarded-Host
    (and X-Forwarded-Proto); loopback routing maps the My Domain host back to the sandbox.
    """
    forwarded = req.header("x-forwarded-host").split(",")[0].strip()
    if forwarded:
        proto = req.header("x-forwarded-proto", "https").split(",")[0].strip() or "https"
        return f"{proto}://{forwarded}"
    return cred.SF_INSTANCE_URL


def _tag(xml: str, name: str) -> str:
    m = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", xml, re.S)
    return m.group(1) if m else ""


@ROUTES.add("POST", r"/services/Soap/u/(?P<v>\d+\.\d)(?:/.*)?")
def soap_login(state: State, req: Request, m: re.Match[str]) -> Response:
    xml = req.body.decode("utf-8", "replace")
    username, password = _tag(xml, "username"), _tag(xml, "password")
    if (username, password) != (
        escape(cred.SF_USERNAME),
        escape(cred.SF_PASSWORD + cred.SF_SECURITY_TOKEN),
    ):
        return Response(500, _FAULT.encode(), {"Content-Type": "text/xml; charset=utf-8"})
    version, base, sid = m.group("v"), instance_url(req), _issue(state)
    body = f"""<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>
<metadataServerUrl>{base}/services/Soap/m/{version}/{cred.SF_ORG_ID}</metadataServerUrl>
<passwordExpired>false</passwordExpired><sandbox>true</sandbox>
<serverUrl>{base}/services/Soap/u/{version}/{cred.SF_ORG_ID}</serverUrl>
<sessionId>{sid}</sessionId><userId>{_USER_ID}</userId><userInfo>
<organizationId>{cred.SF_ORG_ID}</organizationId><organizationName>Pulsehub Sandbox</organizationName>
<userEmail>{cred.SF_USERNAME}</userEmail><userFullName>Pulsehub Integration</userFullName>
<userId>{_USER_ID}</userId><userName>{cred.SF_USERNAME}</userName></userInfo>
</result></loginResponse></soapenv:Body></soapenv:Envelope>"""
    return Response(200, body.encode(), {"Content-Type": "text/xml; charset=utf-8"})


def _client(req: Request, form: dict[str, str]) -> tuple[str, str]:
    auth = req.header("authorization")
    if auth.lower().startswith("basic "):
        user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        return user, pw
    return form.get("client_id", ""), form.get("client_secret", "")


@ROUTES.add("POST", r"/services/oauth2/token/?")
def oauth_token(state: State, req: Request, m: re.Match[str]) -> Response:
    form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    client = _client(req, form)
    if client != (cred.SF_CONSUMER_KEY, cred.SF_CONSUMER_SECRET) and grant != "refresh_token":
        return json_response(
            400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
        )
    ok = {
        "password": (form.get("username"), form.get("password"))
        in {
            (cred.SF_USERNAME, cred.SF_PASSWORD),
            (cred.SF_USERNAME, cred.SF_PASSWORD + cred.SF_SECURITY_TOKEN),
        },
        "client_credentials": True,
        "refresh_token": form.get("refresh_token") == cred.SF_REFRESH_TOKEN
        and form.get("client_id") == cred.SF_CONSUMER_KEY,
    }.get(grant)
    if ok is None:
        return json_response(
            400,
            {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
        )
    if not ok:
        return json_response(
            400, {"error": "invalid_grant", "error_description": "authentication failure"}
        )
    return json_response(
        200,
        {
            "access_token": _issue(state),
            "instance_url": instance_url(req),
            "id": f"https://login.salesforce.com/id/{cred.SF_ORG_ID}/{_USER_ID}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api refresh_token",
        },
    )
