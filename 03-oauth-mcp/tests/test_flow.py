"""End to end: the authorization server, the MCP servers and the client, on loopback.

The client runs with --no-browser and prints the authorization URL; the test plays the user
(support/browser_user.py): it opens the login-and-consent page over HTTP, fills it in and
follows the redirect back to the client's loopback callback. The servers are the session's
(`parties`): their real commands, on threads of the test process, on real ports. The first login
is a real client process, as an attendee runs it, and so is every run whose exit code and message
are the subject; the other logins run the client's own command in this process
(support/in_process_client.py), on the same ports.
"""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from lesson03.tests.support import client_runs, processes
from lesson03.tests.support.in_process_client import run_client, run_machine
from lesson03.tests.support.waiting import eventually


def stored(token_file: Path, resource: str) -> dict:
    """The login the client keeps for one resource."""
    return json.loads(token_file.read_text())[resource]


def test_login_step_up_and_journal(parties, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    # First request: 401 -> discovery -> registration -> consent for journal:read.
    # create_entry then needs journal:write: 403 -> step-up -> a second consent.
    created = client_runs.run_client(
        parties.mcp_url, tokens, "call", "create_entry", "title=First day", "content=Hello OAuth", 'tags=["workshop"]'
    )
    assert created.returncode == 0, created.stderr
    assert len(created.consents) == 2
    for location in created.consents:
        answer = parse_qs(urlsplit(location).query)
        assert answer["iss"] == [parties.issuer]  # RFC 9207, exactly
        assert answer["code"] and answer["state"]
    assert '"title": "First day"' in created.stdout
    for step in (
        "answered 401",
        "read the protected resource metadata",
        "read the authorization server metadata",
        "register this client",
        "grant_type=authorization_code",
        "answered 403 (step-up",
        "retry the MCP request",
    ):
        assert step in created.stderr, step

    # The stored tokens carry both scopes now: no consent, no browser.
    listed = run_client(parties.mcp_url, tokens, "call", "list_entries")
    assert listed.returncode == 0, listed.stderr
    assert listed.consents == []
    assert "Hello OAuth" in listed.stdout

    assert tokens.stat().st_mode & 0o777 == 0o600
    logins = json.loads(tokens.read_text())
    assert list(logins) == [parties.mcp_url]  # keyed by resource: its tokens go to no other server
    assert logins[parties.mcp_url]["client_info"]["issuer"] == parties.issuer  # the issuer, checked inside
    assert set(logins[parties.mcp_url]) == {"client_info", "tokens", "expires_at"}  # no discovery documents


def test_users_see_only_their_own_entries(parties, tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice.json", tmp_path / "bob.json"
    written = run_client(parties.mcp_url, alice, "call", "create_entry", "title=Alice only", "content=private")
    assert written.returncode == 0, written.stderr
    entry_id = json.loads(written.stdout.split("structured: ", 1)[1])["id"]

    peek = run_client(parties.mcp_url, bob, "call", "get_entry", f"id={entry_id}", user=("bob", "builder"))
    assert peek.returncode == 1
    assert f"No entry {entry_id} in your journal" in peek.stderr
    who = run_client(parties.mcp_url, bob, "call", "whoami", user=("bob", "builder"))
    assert '"subject": "bob"' in who.stdout


def test_deny_is_reported_and_nothing_is_stored(parties, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    denied = run_client(parties.mcp_url, tokens, "call", "whoami", decision="deny")
    assert denied.returncode == 1
    assert "error=access_denied" in denied.consents[0]
    assert "authorization failed: Authorization refused: access_denied" in denied.stderr
    # The registration was kept (it is not secret, and bound to its issuer); no token was ever stored.
    entry = stored(tokens, parties.mcp_url)
    assert entry["client_info"]["issuer"] == parties.issuer
    assert "tokens" not in entry


def test_client_credentials_for_a_machine_client(parties, tmp_path: Path) -> None:
    # Alice logs in first: the machine, with no token file of its own, must not pick up her tokens.
    assert run_client(parties.mcp_url, tmp_path / "alice.json", "call", "whoami").returncode == 0
    before = (tmp_path / "alice.json").read_text()
    bot = run_machine(
        parties.mcp_url,
        "--client-id",
        "journal-bot",
        "--issuer",
        parties.issuer,
        "--client-secret",
        "dev-journal-bot-secret",
        "call",
        "whoami",
    )
    assert bot.returncode == 0, bot.stderr
    assert "Open this URL" not in bot.stderr  # no user, no browser
    assert "grant_type=client_credentials" in bot.stderr
    assert '"subject": "journal-bot"' in bot.stdout
    assert (tmp_path / "alice.json").read_text() == before  # a machine's tokens are not kept on disk
    assert list(tmp_path.iterdir()) == [tmp_path / "alice.json"]


def test_client_credentials_are_never_implied(parties, tmp_path: Path) -> None:
    """A secret alone does not make a machine: only the machine client is one, and it needs both parts."""
    refused = client_runs.run_machine(parties.mcp_url, "--client-id", "x", "tools")
    assert refused.returncode == 2
    assert "a machine logs in with --client-id and --client-secret" in refused.stderr
    user = client_runs.run_client(parties.mcp_url, tmp_path / "t.json", "--client-credentials", "tools")
    assert user.returncode == 2  # the user's client logs users in, and nothing else
    assert "No such option: --client-credentials" in user.stderr


def register_in_advance(parties, redirect_uri: str, confidential: bool) -> dict:
    """What an administrator does for an authorization server without dynamic registration."""
    metadata = {
        "client_name": "Journal CLI (pre-registered)",
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "client_secret_basic" if confidential else "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "application_type": "native",
    }
    response = httpx2.post(f"{parties.issuer}/register", json=metadata, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("confidential", [False, True], ids=["public", "confidential"])
def test_a_pre_registered_client_logs_the_user_in_and_refreshes(parties, tmp_path: Path, confidential: bool) -> None:
    tokens, port = tmp_path / "tokens.json", processes.free_port()
    client = register_in_advance(parties, f"http://127.0.0.1:{port}/callback", confidential)
    options = ["--client-id", client["client_id"], "--issuer", parties.issuer, "--scope", "journal:read journal:write"]
    if confidential:
        options += ["--client-secret", client["client_secret"]]

    def preregistered(*args: str):
        return run_client(parties.mcp_url, tokens, *options, *args, callback_port=port, program="preregistered_client")

    written = preregistered("call", "create_entry", "title=t", "content=c")
    assert written.returncode == 0, written.stderr
    assert len(written.consents) == 1  # both scopes asked for at once: no step-up
    assert "register this client" not in written.stderr  # no dynamic registration
    kept = stored(tokens, parties.mcp_url)
    assert kept["client_info"]["client_id"] == client["client_id"]
    assert "client_secret" not in kept["client_info"]  # the secret stays on the command line

    logins = json.loads(tokens.read_text())
    logins[parties.mcp_url]["expires_at"] = 1  # the client believes its token expired
    tokens.write_text(json.dumps(logins))
    refreshed = preregistered("call", "whoami")
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.consents == []
    assert "grant_type=refresh_token" in refreshed.stderr

    if confidential:  # its secret still goes where it belongs: the revocation endpoint of --issuer
        refresh_token = stored(tokens, parties.mcp_url)["tokens"]["refresh_token"]
        assert preregistered("logout").returncode == 0
        refused = httpx2.post(
            f"{parties.issuer}/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_grant"


def test_login_and_force_login_replace_the_stored_tokens(parties, tmp_path: Path) -> None:
    tokens, port = tmp_path / "tokens.json", processes.free_port()  # one redirect URI: one registration, kept
    assert run_client(parties.mcp_url, tokens, "call", "whoami", callback_port=port).returncode == 0
    first = stored(tokens, parties.mcp_url)["tokens"]["access_token"]
    registration = stored(tokens, parties.mcp_url)["client_info"]["client_id"]

    again = run_client(parties.mcp_url, tokens, "login", callback_port=port)
    assert again.returncode == 0, again.stderr
    assert len(again.consents) == 1
    assert f"Logged in to {parties.mcp_url}, scope 'journal:read'." in again.stdout
    second = stored(tokens, parties.mcp_url)["tokens"]["access_token"]
    assert second != first
    assert stored(tokens, parties.mcp_url)["client_info"]["client_id"] == registration  # `login` keeps it

    forced = run_client(parties.mcp_url, tokens, "--force-login", "call", "whoami", callback_port=port)
    assert forced.returncode == 0, forced.stderr
    assert len(forced.consents) == 1
    assert stored(tokens, parties.mcp_url)["tokens"]["access_token"] not in (first, second)
    # --force-login starts over, registration included: the one kept may be one the server forgot.
    assert "register this client" in forced.stderr
    assert stored(tokens, parties.mcp_url)["client_info"]["client_id"] != registration


def test_logout_revokes_and_forgets(parties, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    assert run_client(parties.mcp_url, tokens, "call", "whoami").returncode == 0
    login = stored(tokens, parties.mcp_url)
    refresh_token, client_id = login["tokens"]["refresh_token"], login["client_info"]["client_id"]

    out = run_client(parties.mcp_url, tokens, "logout")
    assert out.returncode == 0, out.stderr
    assert f"Logged out of {parties.issuer}" in out.stdout
    assert json.loads(tokens.read_text()) == {}
    # The authorization server no longer honours the refresh token, asked by the client it was issued to.
    refused = httpx2.post(
        f"{parties.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_introspection_sees_a_revocation_that_a_jwt_cannot(parties, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    first = run_client(parties.introspecting_mcp_url, tokens, "call", "whoami")
    assert first.returncode == 0, first.stderr
    assert '"subject": "alice"' in first.stdout
    access_token = stored(tokens, parties.introspecting_mcp_url)["tokens"]["access_token"]

    assert run_client(parties.introspecting_mcp_url, tokens, "logout").returncode == 0

    def status(http: httpx2.Client) -> int:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json, text/event-stream"}
        return http.post(parties.introspecting_mcp_url, json=body, headers=headers).status_code

    # The verifier reuses an answer for a second (--introspection-cache 1): the revocation shows within that.
    with httpx2.Client(timeout=10) as http:
        eventually(
            lambda: status(http) == 401, timeout=15, message="the revoked token refused by the introspecting server"
        )


def test_a_raw_token_is_used_as_is_and_a_forged_one_is_explained(parties, tmp_path: Path) -> None:
    minted = httpx2.post(
        f"{parties.issuer}/token",
        data={"grant_type": "client_credentials", "resource": parties.mcp_url},
        auth=("journal-bot", "dev-journal-bot-secret"),
    ).json()["access_token"]
    used = run_client(parties.mcp_url, tmp_path / "unused.json", "--token", minted, "call", "whoami")
    assert used.returncode == 0, used.stderr
    assert '"subject": "journal-bot"' in used.stdout

    forged = client_runs.run_client(parties.mcp_url, tmp_path / "unused.json", "--token", "forged", "call", "whoami")
    assert forged.returncode == 1
    assert (
        'error: the server refused the token: HTTP 401, WWW-Authenticate: Bearer error="invalid_token"' in forged.stderr
    )
