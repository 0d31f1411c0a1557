"""Refresh rotation, client credentials, introspection, revocation and token exchange at /token, /introspect, /revoke.

This module's server issues tokens for two resources, the default one and SECOND_RESOURCE, and
exchanges them for tokens to UPSTREAM (RFC 8693): nothing listens at any of the three, only their
names matter here.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lesson03.tests.support import in_process_client
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.oauth_driver import DEFAULT_RESOURCE

SECOND_RESOURCE = "http://127.0.0.1:8096/mcp"
UPSTREAM = "http://127.0.0.1:8097/api"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
SECOND_AUTH = ("second-mcp-server", "second-secret")  # provisioned below, with add_resource_server


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tokens") / "auth.db"


@pytest.fixture(scope="module")
def auth_server(db: Path) -> Iterator[Any]:
    """This module's server (it replaces conftest's): two resources, and an upstream to exchange tokens for."""
    flags = ["--resource", DEFAULT_RESOURCE, "--resource", SECOND_RESOURCE, "--upstream", UPSTREAM]
    with auth_server_in_thread("--db", str(db), *flags) as server:
        yield server


def test_refresh_rotates_and_reuse_revokes_the_family(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    first, _ = oauth.code_flow(client_id, scope="journal:read journal:write")

    response = oauth.refresh(client_id, first["refresh_token"], resource=oauth.RESOURCE)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]  # rotated
    assert second["scope"] == "journal:read journal:write"
    _, claims = oauth.verify(second["access_token"])
    assert claims["aud"] == oauth.RESOURCE
    assert claims["sub"] == "alice"
    assert oauth.active(first["access_token"]) and oauth.active(second["access_token"])

    # The first refresh token again: someone else has a copy. Everything in the family dies.
    reuse = oauth.refresh(client_id, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    latest = oauth.refresh(client_id, second["refresh_token"])
    assert latest.status_code == 400
    assert latest.json()["error"] == "invalid_grant"
    assert not oauth.active(first["access_token"])
    assert not oauth.active(second["access_token"])


def test_refresh_may_narrow_the_scope_but_the_new_refresh_token_keeps_the_grant(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    token, _ = oauth.code_flow(client_id, scope="journal:read journal:write")
    narrowed = oauth.refresh(client_id, token["refresh_token"], scope="journal:read").json()
    assert narrowed["scope"] == "journal:read"
    widened_again = oauth.refresh(client_id, narrowed["refresh_token"], scope="journal:read journal:write")
    assert widened_again.status_code == 200, widened_again.text
    assert widened_again.json()["scope"] == "journal:read journal:write"
    beyond = oauth.refresh(client_id, widened_again.json()["refresh_token"], scope="journal:admin")
    assert beyond.json()["error"] == "invalid_scope"


def test_refresh_for_another_resource_is_invalid_target(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"])
    response = oauth.refresh(public_client["client_id"], token["refresh_token"], resource="http://127.0.0.1:1/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_refresh_token_of_another_client_is_invalid_grant(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"])
    other = oauth.register()
    response = oauth.refresh(other["client_id"], token["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_client_credentials_with_basic_and_post(oauth) -> None:
    basic = oauth.http.post(
        f"{oauth.base_url}/token",
        data={"grant_type": "client_credentials", "scope": "journal:read journal:write"},
        auth=oauth.BOT_AUTH,
    )
    assert basic.status_code == 200, basic.text
    assert basic.headers["cache-control"] == "no-store"
    body = basic.json()
    assert "refresh_token" not in body
    assert body["scope"] == "journal:read journal:write"
    _, claims = oauth.verify(body["access_token"])
    assert claims["sub"] == "journal-bot"
    assert claims["client_id"] == "journal-bot"
    assert claims["aud"] == oauth.RESOURCE

    client_id, secret = oauth.BOT_AUTH
    post = oauth.http.post(
        f"{oauth.base_url}/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert post.status_code == 200, post.text
    assert post.json()["scope"] == "journal:read"  # the default: least privilege


def test_client_credentials_wrong_secret_is_invalid_client(oauth) -> None:
    response = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "client_credentials"}, auth=("journal-bot", "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


def test_client_credentials_refused_to_public_and_resource_server_clients(oauth, public_client) -> None:
    public = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "client_credentials", "client_id": public_client["client_id"]}
    )
    assert public.json()["error"] == "invalid_client"
    resource_server = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "client_credentials"}, auth=oauth.RS_AUTH
    )
    assert resource_server.status_code == 400
    assert resource_server.json()["error"] == "unauthorized_client"


def test_client_credentials_unknown_resource_is_invalid_target(oauth) -> None:
    response = oauth.http.post(
        f"{oauth.base_url}/token",
        data={"grant_type": "client_credentials", "resource": "https://elsewhere.example/mcp"},
        auth=oauth.BOT_AUTH,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_introspection_requires_the_resource_server_client(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"])
    assert oauth.introspect(token["access_token"], auth=None).status_code == 401
    assert oauth.introspect(token["access_token"], auth=("journal-mcp-server", "wrong")).status_code == 401
    bot = oauth.introspect(token["access_token"], auth=oauth.BOT_AUTH)  # a client, but not a resource server
    assert bot.status_code == 401
    assert bot.json()["error"] == "invalid_client"


def test_introspection_of_an_active_token(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"], scope="journal:read journal:write")
    response = oauth.introspect(token["access_token"])
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["scope"] == "journal:read journal:write"
    assert body["client_id"] == public_client["client_id"]
    assert body["sub"] == "alice"
    assert body["aud"] == oauth.RESOURCE
    assert body["iss"] == oauth.base_url
    assert body["token_type"] == "Bearer"
    assert body["exp"] - body["iat"] == 300


def test_introspection_with_client_secret_post(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"])
    client_id, secret = oauth.RS_AUTH
    response = oauth.http.post(
        f"{oauth.base_url}/introspect",
        data={"token": token["access_token"], "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert response.json()["active"] is True


def test_introspection_of_unknown_tokens_is_inactive(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"])
    for unknown in ("not-a-token", token["refresh_token"], token["access_token"][:-4] + "AAAA"):
        response = oauth.introspect(unknown)
        assert response.status_code == 200
        assert response.json() == {"active": False}
    assert oauth.http.post(f"{oauth.base_url}/introspect", auth=oauth.RS_AUTH).json()["error"] == "invalid_request"


def test_revoking_an_access_token_makes_it_inactive(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    token, _ = oauth.code_flow(client_id)
    response = oauth.http.post(
        f"{oauth.base_url}/revoke", data={"token": token["access_token"], "client_id": client_id}
    )
    assert response.status_code == 200
    assert not oauth.active(token["access_token"])
    # The refresh token is a separate credential and still works.
    assert oauth.refresh(client_id, token["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_revokes_the_family(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    token, _ = oauth.code_flow(client_id)
    response = oauth.http.post(
        f"{oauth.base_url}/revoke",
        data={"token": token["refresh_token"], "token_type_hint": "refresh_token", "client_id": client_id},
    )
    assert response.status_code == 200
    assert oauth.refresh(client_id, token["refresh_token"]).json()["error"] == "invalid_grant"
    assert not oauth.active(token["access_token"])


def test_revoking_unknown_tokens_is_ok_and_confidential_clients_authenticate(oauth, public_client) -> None:
    unknown = oauth.http.post(
        f"{oauth.base_url}/revoke", data={"token": "nothing", "client_id": public_client["client_id"]}
    )
    assert unknown.status_code == 200
    bot_token = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "client_credentials"}, auth=oauth.BOT_AUTH
    ).json()["access_token"]
    anonymous = oauth.http.post(f"{oauth.base_url}/revoke", data={"token": bot_token, "client_id": "journal-bot"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    assert oauth.active(bot_token)
    revoked = oauth.http.post(f"{oauth.base_url}/revoke", data={"token": bot_token}, auth=oauth.BOT_AUTH)
    assert revoked.status_code == 200
    assert not oauth.active(bot_token)


def test_unsupported_grant_type(oauth) -> None:
    response = oauth.http.post(f"{oauth.base_url}/token", data={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def user_token(oauth, client_id: str, resource: str) -> str:
    """alice's access token for `resource`, through the code flow."""
    authorization = oauth.authorize(client_id, resource=resource)
    redeemed = oauth.redeem(client_id, authorization.params["code"], authorization.verifier, resource=resource)
    assert redeemed.status_code == 200, redeemed.text
    return redeemed.json()["access_token"]


def exchange(oauth, subject_token: str, auth: tuple[str, str]) -> Any:
    data = {
        "grant_type": EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": ACCESS_TOKEN,
        "resource": UPSTREAM,
    }
    return oauth.http.post(f"{oauth.base_url}/token", data=data, auth=auth)


def test_a_resource_server_exchanges_only_the_tokens_of_its_own_resource(oauth, public_client, db) -> None:
    # With --resource A --resource B, A's server (the seeded journal-mcp-server) exchanged a user's token
    # issued for B, and got B's user's access to the upstream. Each resource's server now has a client of
    # its own, and exchanges the tokens of its own resource only.
    provisioned = in_process_client.run_cli(
        "auth_server.optional.add_resource_server",
        *("--db", str(db), "--client-id", SECOND_AUTH[0], "--resource", SECOND_RESOURCE),
        env={"RESOURCE_SERVER_SECRET": SECOND_AUTH[1]},
    )
    assert provisioned.returncode == 0, provisioned.stderr
    assert SECOND_AUTH[1] not in provisioned.stdout + provisioned.stderr
    for_first, for_second = (
        user_token(oauth, public_client["client_id"], r) for r in (DEFAULT_RESOURCE, SECOND_RESOURCE)
    )

    refused = exchange(oauth, for_second, oauth.RS_AUTH)  # A's server, B's user's token
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    assert exchange(oauth, for_first, SECOND_AUTH).json()["error"] == "invalid_grant"  # and the other way round

    for token, auth in ((for_first, oauth.RS_AUTH), (for_second, SECOND_AUTH)):  # each its own: exchanged
        exchanged = exchange(oauth, token, auth)
        assert exchanged.status_code == 200, exchanged.text
        _, claims = oauth.verify(exchanged.json()["access_token"], audience=UPSTREAM)
        assert (claims["sub"], claims["act"]) == ("alice", {"sub": auth[0]})
