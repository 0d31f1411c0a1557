"""Lesson 03's resource server and client with an authorization server nobody here wrote: oidc-provider.

The same code attendees will point at their company's authorization server: the resource
server finds its keys and its introspection endpoint in the issuer's metadata, checks the
audience (RFC 8707) and the scopes; the client logs a user in through a pre-registered public
client with PKCE, steps up when a tool needs more scope, refreshes, and logs a machine in with
client credentials. One MCP server (the lesson's) gets JWT access tokens, the other (production's)
opaque ones it introspects. The servers are real processes; the clients run their own commands in
this process (support/in_process_client.py), over the same real ports.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from lesson03.tests.support import oidc_provider as oidc
from lesson03.tests.support import processes
from lesson03.tests.support.in_process_client import run_client, run_machine
from lesson03.tests.support.npm_packages import Unavailable

BOT_SECRET, RESOURCE_SERVER_SECRET = "bot-secret-for-tests", "rs-secret-for-tests"


@dataclass
class Independent:
    issuer: str
    jwt_server: "processes.RunningServer"  # verifies JWT access tokens with the issuer's JWKS
    introspecting_server: "processes.RunningServer"  # gets opaque tokens, asks the issuer about them
    callback_port: int  # the redirect URI registered for the pre-registered client "journal-cli"

    def user(self, url: str, tokens: Path, *args: str):
        """Run the client as alice, through the pre-registered public client, logging in when asked."""
        options = ["--client-id", "journal-cli", "--issuer", self.issuer]
        return run_client(
            url,
            tokens,
            *options,
            *args,
            consenter=oidc.log_in_and_consent,
            callback_port=self.callback_port,
            program="preregistered_client",
        )

    def machine(self, url: str, *args: str):
        options = ["--client-id", "journal-bot", "--client-secret", BOT_SECRET, "--issuer", self.issuer]
        return run_machine(url, *options, *args)


@pytest.fixture(scope="module")
def independent(tmp_path_factory) -> Iterator[Independent]:
    try:
        oidc.install()
    except Unavailable as reason:
        pytest.skip(f"oidc-provider is unavailable: {reason}")
    state = tmp_path_factory.mktemp("interop")
    provider_port, jwt_port, opaque_port, callback_port = (processes.free_port() for _ in range(4))
    jwt_resource, opaque_resource = f"http://127.0.0.1:{jwt_port}/mcp", f"http://127.0.0.1:{opaque_port}/mcp"
    config = {
        "jwtResource": jwt_resource,
        "opaqueResource": opaque_resource,
        "redirectUri": f"http://127.0.0.1:{callback_port}/callback",
        "botSecret": BOT_SECRET,
        "resourceServerSecret": RESOURCE_SERVER_SECRET,
    }
    with oidc.start_oidc_provider(provider_port, **config) as issuer:
        server = ["--transport", "http", "--issuer", issuer]
        with (
            processes.start_process("server", *server, port=jwt_port) as jwt_server,
            processes.start_process(
                "production.server",  # the lesson's server, with introspection plugged in
                *server,
                "--verifier",
                "introspection",
                "--db",
                str(state / "opaque.db"),
                port=opaque_port,
                env={"JOURNAL_MCP_SERVER_SECRET": RESOURCE_SERVER_SECRET},
            ) as introspecting_server,
        ):
            yield Independent(issuer, jwt_server, introspecting_server, callback_port)


def test_a_machine_token_from_client_credentials_is_accepted(independent) -> None:
    bot = independent.machine(independent.jwt_server.mcp_url, "call", "whoami")
    assert bot.returncode == 0, bot.stderr
    assert '"subject": "journal-bot"' in bot.stdout


def test_a_user_logs_in_with_pkce_steps_up_and_refreshes(independent, tmp_path: Path) -> None:
    tokens, url = tmp_path / "tokens.json", independent.jwt_server.mcp_url
    written = independent.user(url, tokens, "call", "create_entry", "title=Interop", "content=works")
    assert written.returncode == 0, written.stderr
    assert "answered 403 (step-up" in written.stderr  # journal:read first, then journal:write
    assert len(written.consents) == 2
    assert "register this client" not in written.stderr  # a pre-registered client

    logins = json.loads(tokens.read_text())
    logins[url]["expires_at"] = 1  # the client believes its token expired: it refreshes
    tokens.write_text(json.dumps(logins))
    who = independent.user(url, tokens, "call", "whoami")
    assert who.returncode == 0, who.stderr
    assert "grant_type=refresh_token" in who.stderr
    assert who.consents == []
    assert '"subject": "alice"' in who.stdout


def test_a_token_for_another_resource_is_refused(independent) -> None:
    other = httpx2.post(
        f"{independent.issuer}/token",
        data={"grant_type": "client_credentials", "resource": independent.introspecting_server.mcp_url},
        auth=("journal-bot", BOT_SECRET),
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {other}", "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    refused = httpx2.post(independent.jwt_server.mcp_url, json=body, headers=headers, timeout=10)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_the_introspection_verifier_accepts_opaque_tokens(independent, tmp_path: Path) -> None:
    url = independent.introspecting_server.mcp_url
    who = independent.user(url, tmp_path / "tokens.json", "call", "whoami")
    assert who.returncode == 0, who.stderr
    assert '"subject": "alice"' in who.stdout
    bot = independent.machine(url, "call", "whoami")  # introspected without `sub`: it acts as its client
    assert bot.returncode == 0, bot.stderr
    assert '"subject": "journal-bot"' in bot.stdout
