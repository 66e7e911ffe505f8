"""Fake, fixed credentials the sandbox accepts (printed on start; never real secrets)."""

from __future__ import annotations

from typing import Any

SF_SESSION_ID = "00DSANDBOX0000001!SANDBOX_SF_SESSION_ID"
SF_USERNAME = "integration@pulsehub-sandbox.example"
SF_PASSWORD = "sandbox-password"
SF_SECURITY_TOKEN = "SANDBOXTOKEN"
SF_CONSUMER_KEY = "SANDBOX_CONSUMER_KEY"
SF_CONSUMER_SECRET = "SANDBOX_CONSUMER_SECRET"
SF_ORG_ID = "00DSANDBOX0000001AAA"
SF_API_VERSION = "59.0"
SF_REFRESH_TOKEN = "SANDBOX_SF_REFRESH_TOKEN"
SF_INSTANCE_URL = "https://pulsehub-sandbox.my.salesforce.com"  # the org's My Domain

ZD_SUBDOMAIN = "sandbox"
ZD_EMAIL = "agent@pulsehub-sandbox.example"
ZD_API_TOKEN = "SANDBOX_ZENDESK_API_TOKEN"
ZD_OAUTH_TOKEN = "SANDBOX_ZENDESK_OAUTH_TOKEN"

HS_PRIVATE_APP_TOKEN = "pat-na1-00000000-sandbox-hubspot-private-app"
FD_DOMAIN = "sandbox"  # sandbox.freshdesk.com
FD_API_KEY = "SANDBOX_FRESHDESK_API_KEY"

USAGE_BEARER_TOKEN = "SANDBOX_USAGE_TOKEN"
USAGE_EXPORT_SECRET = "SANDBOX_MIXPANEL_SECRET"


def describe(base_url: str) -> dict[str, dict[str, str]]:
    """Every credential grouped by system, as printed by `pulsehub sandbox serve`."""
    return {
        "salesforce": {
            "instance_url": SF_INSTANCE_URL,
            "session_id": SF_SESSION_ID,
            "username": SF_USERNAME,
            "password": SF_PASSWORD,
            "security_token": SF_SECURITY_TOKEN,
            "consumer_key": SF_CONSUMER_KEY,
            "consumer_secret": SF_CONSUMER_SECRET,
            "api_version": SF_API_VERSION,
            "loopback_url": base_url,
        },
        "zendesk": {
            "subdomain": ZD_SUBDOMAIN,
            "email": ZD_EMAIL,
            "api_token": ZD_API_TOKEN,
            "oauth_token": ZD_OAUTH_TOKEN,
            "force_scheme": "http",
            "force_netloc": base_url.split("://", 1)[1],
        },
        "hubspot": {"base_url": base_url, "private_app_token": HS_PRIVATE_APP_TOKEN},
        "freshdesk": {"domain": FD_DOMAIN, "api_key": FD_API_KEY, "loopback_url": base_url},
        "usage": {
            "base_url": base_url,
            "bearer_token": USAGE_BEARER_TOKEN,
            "export_secret": USAGE_EXPORT_SECRET,
        },
    }


def hubspot_source(base_url: str) -> dict[str, object]:
    """A PULSEHUB_SOURCES item that points a `hubspot` crm source at the sandbox."""
    return {
        "name": "hubspot",
        "connector": "hubspot",
        "options": {"token": HS_PRIVATE_APP_TOKEN, "base_url": base_url},
    }


def pulsehub_env(base_url: str, export_requests_per_minute: int) -> dict[str, str]:
    """Every `PULSEHUB_*` variable pulsehub needs to run against the sandbox at `base_url`."""
    return {
        "PULSEHUB_SALESFORCE__INSTANCE_URL": SF_INSTANCE_URL,
        "PULSEHUB_SALESFORCE__SESSION_ID": SF_SESSION_ID,
        "PULSEHUB_SALESFORCE__API_VERSION": SF_API_VERSION,
        "PULSEHUB_SALESFORCE__LOOPBACK_URL": base_url,
        "PULSEHUB_ZENDESK__SUBDOMAIN": ZD_SUBDOMAIN,
        "PULSEHUB_ZENDESK__EMAIL": ZD_EMAIL,
        "PULSEHUB_ZENDESK__TOKEN": ZD_API_TOKEN,
        "PULSEHUB_ZENDESK__LOOPBACK_URL": base_url,
        # the sandbox's incremental-export budget (real Zendesk: 10, 30 with High Volume)
        "PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE": str(export_requests_per_minute),
        "PULSEHUB_USAGE__BASE_URL": base_url,
        "PULSEHUB_USAGE__TOKEN": USAGE_BEARER_TOKEN,
    }


def second_helpdesk_source(base_url: str, export_requests_per_minute: int) -> dict[str, Any]:
    """The PULSEHUB_SOURCES item that reads a second helpdesk instance served at `base_url`."""
    return {
        "name": "acquired",
        "connector": "zendesk",
        "options": {
            "subdomain": ZD_SUBDOMAIN,
            "email": ZD_EMAIL,
            "token": ZD_API_TOKEN,
            "loopback_url": base_url,
            "export_requests_per_minute": export_requests_per_minute,
        },
    }
