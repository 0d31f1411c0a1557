"""What the server's log may hold: at `--log-level debug`, across a whole flow, never a credential,
and never a line that a request wrote for it."""

import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from lesson03.auth_server import models
from lesson03.tests.support import oauth_driver, processes
from lesson03.tests.support.server_log import log_showing


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The authorization server at its most talkative."""
    db = tmp_path_factory.mktemp("logging") / "auth.db"
    with processes.start_process("auth_server", "--db", str(db), "--log-level", "debug") as server:
        yield server


@pytest.fixture(scope="module")
def oauth(debug_server: Any) -> Iterator[Any]:
    client = oauth_driver.OAuth(debug_server.base_url)
    yield client
    client.close()


def test_no_token_code_secret_or_hash_is_logged_at_debug_level(debug_server, oauth) -> None:
    secrets_seen: list[str] = [oauth_driver.USER[1], oauth_driver.RS_AUTH[1], oauth_driver.BOT_AUTH[1]]
    confidential = oauth.register(token_endpoint_auth_method="client_secret_basic")
    secrets_seen.append(confidential["client_secret"])

    # A confidential client's whole flow: consent with a password, the code, tokens, a refresh.
    authorization = oauth.authorize(confidential["client_id"])
    code = authorization.params["code"]
    browser_cookie = next(iter(authorization.browser.cookies.values()))
    secrets_seen += [code, authorization.verifier, authorization.form["csrf_token"], browser_cookie]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": oauth.REDIRECT_URI}
    tokens = oauth.http.post(
        f"{oauth.base_url}/token",
        data={**data, "code_verifier": authorization.verifier},
        auth=(confidential["client_id"], confidential["client_secret"]),
    ).json()
    refreshed = oauth.http.post(
        f"{oauth.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(confidential["client_id"], confidential["client_secret"]),
    ).json()
    secrets_seen += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"]]
    secrets_seen.append(refreshed["refresh_token"])

    # A public client, a machine client, introspection, revocation, a wrong password.
    public = oauth.register()["client_id"]
    public_tokens, _ = oauth.code_flow(public)
    machine_token = oauth.client_credentials().json()["access_token"]
    secrets_seen += [public_tokens["access_token"], public_tokens["refresh_token"], machine_token]
    assert oauth.active(machine_token)
    oauth.http.post(f"{oauth.base_url}/revoke", data={"token": public_tokens["refresh_token"], "client_id": public})
    oauth.http.post(f"{oauth.base_url}/revoke", data={"token": machine_token}, auth=oauth.BOT_AUTH)
    assert oauth.authorize(confidential["client_id"], password="not-the-password").response.status_code == 401

    log = log_showing(debug_server, '"POST /authorize HTTP/1.1" 401')
    assert " DEBUG " in log  # the level really was debug
    assert "issued a token" in log
    for secret in secrets_seen:
        assert secret not in log, f"{secret[:12]}... is in the log"
        assert secret[-16:] not in log  # nor a recognisable tail of one
    assert "scrypt$" not in log  # no password or client secret hash (Authlib logs the client with %r)


def test_a_newline_in_a_client_id_cannot_forge_a_log_line(debug_server, oauth) -> None:
    forged = "2026-01-01 00:00:00,000 INFO    03-oauth-mcp.auth_server.consent alice approved evil"
    client_id = f"https://client.example/app.json\n{forged}"
    url, _, _ = oauth.authorize_url(client_id)
    assert "%0A" in url  # sent as the issue describes it: %0a in the query string
    assert oauth.http.get(url).status_code == 400

    log = log_showing(debug_server, f"\\n{forged}")  # the client_id, its newline escaped
    assert not [line for line in log.splitlines() if line.startswith(forged)]
    # The same for a POST to /token, whose client_id goes to the log too.
    response = oauth.http.post(
        f"{oauth.base_url}/token", data={"grant_type": "authorization_code", "client_id": client_id}
    )
    assert response.status_code in (400, 401)
    assert not re.search(rf"^{re.escape(forged)}", debug_server.logged(), re.MULTILINE)


def test_query_strings_are_logged_without_credentials(debug_server) -> None:
    # A client that puts a secret in a URL leaks it itself; this server's log does not repeat it.
    secret = "client-secret-in-a-url-0123456789"
    url = f"{debug_server.base_url}/authorize?client_id=demo&client_secret={secret}&code=abc123456789"
    assert httpx2.get(url, timeout=10).status_code == 400

    log = log_showing(debug_server, "GET /authorize?client_id=demo&")
    assert "GET /authorize?client_id=demo&client_secret=****&code=**** HTTP/1.1" in log
    assert secret not in log


def test_a_clients_repr_leaves_out_its_secret_hash() -> None:
    # Authlib logs clients with %r; its loggers are held at WARNING, and the hash is not in the repr either.
    client = models.Client(client_id="bot", client_name="Bot", secret_hash="scrypt$16384$8$1$c2FsdA$aGFzaA")
    assert "scrypt$" not in repr(client)
    assert "bot" in repr(client)
