"""The MCP server as an OAuth resource server: challenges, metadata, token checks, scopes, isolation.

Tokens come from a test issuer (conftest), so each test crafts exactly the token
it needs; test_flow.py runs the same server with the real authorization server.

What the server answers over HTTP is the subject, not its process: the HTTP servers run their own
commands on threads of the test process, on real ports (`resource_server` in conftest.py,
support/in_process_server.py). The stdio transport and a refused start (exit code, stderr) are the
process's own: those run it.
"""

import re
import secrets
import sys
import time

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from lesson03.safe_output import mask_token
from lesson03.tests.support import processes
from lesson03.tests.support.in_process_server import mcp_server_in_thread
from lesson03.tests.support.issuer import OMIT

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


def post(
    server, token: str | None = None, body: dict | None = None, authorization: str | None = None
) -> httpx2.Response:
    headers = dict(ACCEPT)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx2.post(server.mcp_url, json=body or INITIALIZE, headers=headers, timeout=10)


def challenge(response: httpx2.Response) -> dict[str, str]:
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer ")
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def tool_call(name: str, arguments: dict | None = None) -> dict:
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": arguments or {}}}


def test_no_token_is_401_with_metadata_and_scope_but_no_error(resource_server) -> None:
    response = post(resource_server)
    assert response.status_code == 401
    params = challenge(response)
    assert "error" not in params  # RFC 6750 §3.1: no error code when no credentials were sent
    assert params["resource_metadata"] == f"{resource_server.base_url}/.well-known/oauth-protected-resource/mcp"
    assert params["scope"] == "journal:read"


def test_protected_resource_metadata_at_path_and_root(resource_server, test_issuer) -> None:
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        metadata = httpx2.get(resource_server.base_url + path).json()
        assert metadata["resource"] == resource_server.mcp_url
        assert metadata["authorization_servers"] == [test_issuer.url]  # exactly: no trailing slash
        assert metadata["scopes_supported"] == ["journal:read"]
        assert metadata["bearer_methods_supported"] == ["header"]


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer two words"])
def test_malformed_authorization_header_is_400_invalid_request(resource_server, authorization) -> None:
    response = post(resource_server, authorization=authorization)
    assert response.status_code == 400
    assert challenge(response)["error"] == "invalid_request"


def test_another_scheme_is_treated_as_no_token(resource_server) -> None:
    response = post(resource_server, authorization="Basic YWxpY2U6d29uZGVybGFuZA==")
    assert response.status_code == 401
    assert "error" not in challenge(response)


OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda issuer, resource: issuer.mint(resource, exp=int(time.time()) - 120), id="expired"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, iss="http://127.0.0.1:1"), id="wrong-issuer"),
        pytest.param(lambda issuer, resource: issuer.mint("http://127.0.0.1:9999/mcp"), id="wrong-audience"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, aud=OMIT), id="no-audience"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, client_id=OMIT), id="no-client-id"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, key=OTHER_KEY), id="bad-signature"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, alg="none"), id="alg-none"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, header={"typ": "JWT"}), id="not-an-access-token"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, header={"typ": 7}), id="typ-a-number"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, header={"typ": None}), id="typ-null"),
        pytest.param(lambda issuer, resource: issuer.with_header(issuer.mint(resource), kid=["a"]), id="kid-a-list"),
        pytest.param(lambda issuer, resource: issuer.with_header(issuer.mint(resource), alg={"a": 1}), id="alg-object"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, client_id=["x"]), id="client-id-a-list"),
        pytest.param(lambda issuer, resource: issuer.mint(resource, scope={"a": 1}), id="scope-an-object"),
        pytest.param(lambda issuer, resource: "not.a.jwt", id="garbage"),
    ],
)
def test_bad_tokens_are_401_invalid_token(resource_server, test_issuer, forge) -> None:
    response = post(resource_server, token=forge(test_issuer, resource_server.mcp_url))
    assert response.status_code == 401
    params = challenge(response)
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")


def test_made_up_tokens_at_an_introspecting_server_share_one_connection_to_the_issuer(test_issuer, tmp_path) -> None:
    """A flood of random tokens at an introspecting server (production's): each is a question to the issuer.
    Asked with a new HTTP client each time, each cost a TLS context and a connection (about 20 ms of CPU):
    one client, kept for the process (server/issuer.py), asks them all over one connection."""
    args = ["--transport", "http", "--issuer", test_issuer.url, "--db", str(tmp_path / "j.db")]
    with mcp_server_in_thread(*args, "--verifier", "introspection", program="production.server") as introspecting:
        test_issuer.introspected_from.clear()
        for _ in range(6):
            response = post(introspecting, token=secrets.token_urlsafe(32))
            assert response.status_code == 401
            assert challenge(response)["error"] == "invalid_token"
    assert len(test_issuer.introspected_from) == 6
    assert len(set(test_issuer.introspected_from)) == 1


def test_a_valid_token_reaches_the_server(resource_server, test_issuer) -> None:
    response = post(resource_server, token=test_issuer.mint(resource_server.mcp_url))
    assert response.status_code == 200


def test_missing_scope_is_403_naming_every_scope_the_call_needs(resource_server, test_issuer) -> None:
    token = test_issuer.mint(resource_server.mcp_url, scope="journal:read")
    response = post(resource_server, token=token, body=tool_call("create_entry", {"title": "t", "content": "c"}))
    assert response.status_code == 403
    params = challenge(response)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "journal:read journal:write"
    assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")


def test_a_token_without_the_base_scope_is_403(resource_server, test_issuer) -> None:
    response = post(resource_server, token=test_issuer.mint(resource_server.mcp_url, scope="profile"))
    assert response.status_code == 403
    assert challenge(response)["scope"] == "journal:read"


async def connect(server, token: str):
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
    return http, Client(streamable_http_client(server.mcp_url, http_client=http))


async def call(server, token: str, tool: str, arguments: dict | None = None):
    http, client = await connect(server, token)
    async with http, client:
        return await client.call_tool(tool, arguments or {})


async def test_whoami_and_show_auth_token_see_the_verified_token(resource_server, test_issuer) -> None:
    token = test_issuer.mint(resource_server.mcp_url, subject="carol", scope="journal:read journal:write")
    who = await call(resource_server, token, "whoami")
    assert who.structured_content["subject"] == "carol"
    assert who.structured_content["client_id"] == "test-client"
    assert who.structured_content["scopes"] == ["journal:read", "journal:write"]
    shown = await call(resource_server, token, "show_auth_token")
    assert shown.structured_content["token"] == mask_token(token) == f"{token[:4]}****"
    assert shown.structured_content["claims"]["aud"] == resource_server.mcp_url
    assert token not in shown.model_dump_json()


async def test_a_token_without_a_subject_acts_as_its_client(resource_server, test_issuer) -> None:
    """Client credentials: some issuers put no `sub` in a token a client obtained for itself."""
    token = test_issuer.mint(resource_server.mcp_url, sub=OMIT, client_id="nightly-report")
    who = await call(resource_server, token, "whoami")
    assert who.structured_content["subject"] == who.structured_content["client_id"] == "nightly-report"


async def test_each_user_sees_only_their_own_entries(resource_server, test_issuer) -> None:
    write = "journal:read journal:write"
    alice = test_issuer.mint(resource_server.mcp_url, subject="alice-iso", scope=write)
    bob = test_issuer.mint(resource_server.mcp_url, subject="bob-iso", scope=write)

    created = await call(
        resource_server, alice, "create_entry", {"title": "Secret", "content": "only mine", "tags": ["x"]}
    )
    assert not created.is_error, created.content
    entry_id = created.structured_content["id"]

    own = await call(resource_server, alice, "get_entry", {"id": entry_id})
    assert own.structured_content["content"] == "only mine"
    assert own.structured_content["tags"] == ["x"]

    other = await call(resource_server, bob, "get_entry", {"id": entry_id})
    assert other.is_error
    assert f"No entry {entry_id} in your journal" in other.content[0].text
    assert (await call(resource_server, bob, "list_entries")).structured_content == {"result": []}
    assert (await call(resource_server, bob, "delete_entry", {"id": entry_id})).is_error

    assert [e["id"] for e in (await call(resource_server, alice, "list_entries")).structured_content["result"]] == [
        entry_id
    ]
    assert not (await call(resource_server, alice, "delete_entry", {"id": entry_id})).is_error
    assert (await call(resource_server, alice, "list_entries")).structured_content == {"result": []}


async def test_a_session_belongs_to_the_principal_that_opened_it(resource_server, test_issuer) -> None:
    """The SDK binds an MCP session to the token's principal: another user cannot hijack it by its id."""
    alice = test_issuer.mint(resource_server.mcp_url, subject="alice-session")
    bob = test_issuer.mint(resource_server.mcp_url, subject="bob-session")
    opened = post(resource_server, token=alice)
    session_id = opened.headers["mcp-session-id"]
    hijack = httpx2.post(
        resource_server.mcp_url,
        json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        headers={
            **ACCEPT,
            "Authorization": f"Bearer {bob}",
            "Mcp-Session-Id": session_id,
            "Mcp-Protocol-Version": "2025-11-25",
        },
    )
    assert hijack.status_code in (403, 404)


@pytest.mark.parametrize("command", ["server", "production.server"])
async def test_stdio_takes_a_verified_token_from_api_key(test_issuer, tmp_path, command: str) -> None:
    resource = "http://127.0.0.1:8095/mcp"  # the stdio server's identity: its default --addr
    token = test_issuer.mint(resource, subject="dave")
    journal = ["--db", str(tmp_path / "j.db")] if command == "production.server" else []
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{processes.LESSON}.{command}", "--issuer", test_issuer.url, *journal],
        cwd=processes.REPOSITORY_ROOT,
        env={"API_KEY": token},
    )
    async with Client(params) as client:
        who = await client.call_tool("whoami", {})
        refused = await client.call_tool("create_entry", {"title": "t", "content": "c"})
    assert who.structured_content["subject"] == "dave"
    assert refused.is_error
    assert "Insufficient scope: this call needs journal:write" in refused.content[0].text
    if journal:
        assert (tmp_path / "j.db").stat().st_mode & 0o777 == 0o600  # everyone's entries: owner-only


async def test_stdio_without_a_token_verifies_no_identity() -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "03-oauth-mcp.server", "--issuer", "http://127.0.0.1:1"],
        cwd=processes.REPOSITORY_ROOT,
    )
    async with Client(params) as client:
        refused = await client.call_tool("whoami", {})
    assert refused.is_error
    assert "Insufficient scope: this call needs journal:read" in refused.content[0].text


def test_a_journal_planted_as_a_symlink_is_refused(tmp_path) -> None:
    victim = tmp_path / "victim.db"
    victim.write_text("")
    (tmp_path / "journal.db").symlink_to(victim)
    result = processes.run_cli("production.server", "--transport", "http", "--db", str(tmp_path / "journal.db"))
    assert result.returncode == 2
    assert "is not a regular file of ours" in result.stderr
    assert victim.read_text() == ""
