"""/introspect tells a resource server about the tokens of its own resources only.

With `--resource A --resource B`, A's MCP server asking about a token issued for B learned who B's
user is, with what scope, until when: a resource server is an OAuth client like any other, and one
that is compromised, or malicious, could read any other resource's tokens sent its way. The
authorization server now answers it as RFC 7662 §2.2 allows a server that will not reveal,
`{"active": false}`, exactly as it restricts a token exchange (auth_server/exchange.py). The shared
`parties` (conftest.py) run both: A with the seeded `journal-mcp-server`, B, the introspecting MCP
server, with a client of its own added by `add_resource_server`.
"""

import httpx2

from lesson03.tests.conftest import INTROSPECTING_CLIENT_ID, RESOURCE_SERVER_SECRET
from lesson03.tests.support.oauth_driver import BOT_AUTH

FIRST_AUTH = ("journal-mcp-server", RESOURCE_SERVER_SECRET)  # the first --resource's, seeded
SECOND_AUTH = (INTROSPECTING_CLIENT_ID, RESOURCE_SERVER_SECRET)  # the second's, added


def machine_token(issuer: str, resource: str) -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": "journal:read"}
    response = httpx2.post(f"{issuer}/token", data=data, auth=BOT_AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def introspect(issuer: str, token: str, auth: tuple[str, str]) -> dict:
    """The answer to `auth`'s client about `token` (client_secret_post: the secret needs no Basic encoding)."""
    form = {"token": token, "client_id": auth[0], "client_secret": auth[1]}
    response = httpx2.post(f"{issuer}/introspect", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_resource_server_learns_nothing_of_another_resources_tokens(parties) -> None:
    first, second = parties.mcp_url, parties.introspecting_mcp_url
    for_first, for_second = machine_token(parties.issuer, first), machine_token(parties.issuer, second)

    assert introspect(parties.issuer, for_second, FIRST_AUTH) == {"active": False}
    assert introspect(parties.issuer, for_first, SECOND_AUTH) == {"active": False}

    for token, auth, resource in ((for_first, FIRST_AUTH, first), (for_second, SECOND_AUTH, second)):
        own = introspect(parties.issuer, token, auth)
        assert own["active"] is True, (auth[0], own)
        assert (own["aud"], own["client_id"], own["scope"]) == (resource, BOT_AUTH[0], "journal:read")
