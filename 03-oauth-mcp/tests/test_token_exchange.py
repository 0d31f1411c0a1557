"""Token exchange (RFC 8693) instead of token passthrough: make_authenticated_request calls the upstream API
with a token issued *to the upstream*, for the same user, naming the MCP server as the actor.

Three real servers besides the client: the authorization server (with the upstream among its
`--upstream` APIs), the MCP server, and the bundled upstream API, which accepts only tokens
whose audience is itself. A second MCP server calls a stand-in upstream that sets cookies. The
authorization and MCP servers run their own commands on threads of the test process, each on a real
port (support/in_process_auth_server.py, in_process_server.py), and so does the administrator's
command that provisions the second one (support/in_process_client.py): what they do is the subject,
not their processes. The upstream API is a process.
"""

from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from lesson03.tests.support import in_process_client, loopback_http, processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.in_process_server import mcp_server_in_thread

pytestmark = pytest.mark.anyio
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
RS_AUTH = ("journal-mcp-server", "dev-resource-server-secret")  # the seeded development secret
BOT_AUTH = ("journal-bot", "dev-journal-bot-secret")
COOKIE_MCP_AUTH = ("cookie-mcp-server", "cookie-mcp-server-secret")  # the second resource's own client


COOKIES_SEEN: list[str | None] = []  # the Cookie header of each request CookieSettingUpstream got


class CookieSettingUpstream(loopback_http.JsonHandler):
    """An upstream that, like many web APIs, sets a session cookie for whoever calls; it records the
    Cookie header of every request, and answers in the bundled upstream's shape."""

    def do_GET(self) -> None:
        COOKIES_SEEN.append(self.headers.get("Cookie"))
        cookie = f"session=caller-{len(COOKIES_SEEN)}; Path=/"
        self.reply({"args": {}, "headers": {}, "token": {}}, headers={"Set-Cookie": cookie})


def mcp_server(issuer: str, upstream: str, port: int, client: tuple[str, str] | None = None):
    """An MCP server; `client`: its own (id, secret) at the authorization server, if it is not the first --resource."""
    arguments = ["-t", "http", "--issuer", issuer, "--upstream-url", f"{upstream}/anything"]
    if client is None:
        return mcp_server_in_thread(*arguments, port=port)
    credentials = {"JOURNAL_MCP_SERVER_SECRET": client[1]}
    return mcp_server_in_thread(*arguments, "--client-id", client[0], port=port, env=credentials)


@pytest.fixture(scope="module")
def exchange_parties(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The authorization server, the MCP server and the upstream API, wired for token exchange; and a
    second MCP server whose upstream sets cookies."""
    state = tmp_path_factory.mktemp("exchange")
    auth_port, mcp_port, upstream_port, cookie_mcp_port = (processes.free_port() for _ in range(4))
    mcp_url, upstream = f"http://127.0.0.1:{mcp_port}/mcp", f"http://127.0.0.1:{upstream_port}"
    cookie_mcp_url = f"http://127.0.0.1:{cookie_mcp_port}/mcp"
    cookie_setter = loopback_http.loopback_server(CookieSettingUpstream)
    cookie_upstream = f"http://127.0.0.1:{cookie_setter.server_address[1]}"
    issuer = f"http://127.0.0.1:{auth_port}"
    resources = ["--resource", mcp_url, "--resource", cookie_mcp_url]
    # The second resource's server exchanges its tokens with credentials of its own (exchange.py).
    provisioned = in_process_client.run_cli(
        "auth_server.optional.add_resource_server",
        *("--db", str(state / "a.db"), "--client-id", COOKIE_MCP_AUTH[0], "--resource", cookie_mcp_url),
        env={"RESOURCE_SERVER_SECRET": COOKIE_MCP_AUTH[1]},
    )
    assert provisioned.returncode == 0, provisioned.stderr
    with (
        loopback_http.serving(cookie_setter),
        auth_server_in_thread(
            "--db",
            str(state / "a.db"),
            *resources,
            "--upstream",
            upstream,
            "--upstream",
            cookie_upstream,
            port=auth_port,
        ),
        processes.start_process("upstream", "--issuer", issuer, port=upstream_port),
        mcp_server(issuer, upstream, mcp_port),
        mcp_server(issuer, cookie_upstream, cookie_mcp_port, COOKIE_MCP_AUTH),
    ):
        yield {"issuer": issuer, "mcp": mcp_url, "upstream": upstream, "cookie_mcp": cookie_mcp_url}


def machine_token(parties: dict[str, str], resource: str, scope: str = "journal:read") -> str:
    data = {"grant_type": "client_credentials", "resource": resource, "scope": scope}
    return httpx2.post(f"{parties['issuer']}/token", data=data, auth=BOT_AUTH, timeout=10).json()["access_token"]


def exchange(parties: dict[str, str], subject_token: str, auth=RS_AUTH, **extra: str) -> httpx2.Response:
    data = {
        "grant_type": EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": ACCESS_TOKEN,
        "resource": parties["upstream"],
        **extra,
    }
    return httpx2.post(f"{parties['issuer']}/token", data=data, auth=auth, timeout=10)


async def make_authenticated_request(mcp_url: str, token: str) -> CallToolResult:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        return await client.call_tool("make_authenticated_request", {"message": "hi"})


async def test_the_upstream_sees_the_user_the_actor_and_itself_as_audience(exchange_parties) -> None:
    token = machine_token(exchange_parties, exchange_parties["mcp"])
    result = await make_authenticated_request(exchange_parties["mcp"], token)
    assert not result.is_error, result.content
    seen = result.structured_content
    assert seen["args"] == {"message": "hi"}
    assert seen["token"]["sub"] == "journal-bot"  # the subject stays the caller
    assert seen["token"]["act"] == {"sub": "journal-mcp-server"}  # the MCP server acts for them
    assert seen["token"]["aud"] == exchange_parties["upstream"]
    assert token[:20] not in str(seen)  # the caller's own token never left the MCP server


async def test_a_cookie_the_upstream_sets_never_goes_out_with_a_later_call(exchange_parties) -> None:
    # The server calls every upstream through one shared client (server/app.py): a cookie jar in it
    # would send what the upstream set during one caller's call with every caller's calls after it.
    for _ in range(2):
        token = machine_token(exchange_parties, exchange_parties["cookie_mcp"])
        result = await make_authenticated_request(exchange_parties["cookie_mcp"], token)
        assert not result.is_error, result.content
    assert COOKIES_SEEN == [None, None]


def test_the_upstream_refuses_the_callers_own_token(exchange_parties) -> None:
    token = machine_token(exchange_parties, exchange_parties["mcp"])
    answer = httpx2.get(f"{exchange_parties['upstream']}/anything", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_an_exchanged_token_is_worth_nothing_at_the_mcp_server_and_never_outlives_its_subject(exchange_parties) -> None:
    subject = machine_token(exchange_parties, exchange_parties["mcp"])
    exchanged = exchange(exchange_parties, subject)
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["issued_token_type"] == ACCESS_TOKEN
    replayed = httpx2.post(
        exchange_parties["mcp"],
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Authorization": f"Bearer {exchanged.json()['access_token']}",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert replayed.status_code == 401
    assert exchanged.json()["expires_in"] <= 300


@pytest.mark.parametrize(
    ("case", "expected_error"),
    [
        pytest.param("client without the grant", "unauthorized_client", id="not-an-mcp-server"),
        pytest.param("token for the upstream itself", "invalid_grant", id="subject-for-another-resource"),
        pytest.param("audience an mcp server", "invalid_target", id="back-to-an-mcp-server"),
        pytest.param("more scope", "invalid_scope", id="escalation"),
        pytest.param("garbage subject", "invalid_grant", id="forged-subject"),
    ],
)
def test_the_authorization_server_refuses_what_its_policy_forbids(exchange_parties, case, expected_error) -> None:
    subject = machine_token(exchange_parties, exchange_parties["mcp"])
    if case == "client without the grant":
        answer = exchange(exchange_parties, subject, auth=BOT_AUTH)
    elif case == "token for the upstream itself":
        answer = exchange(exchange_parties, exchange(exchange_parties, subject).json()["access_token"])
    elif case == "audience an mcp server":
        answer = exchange(exchange_parties, subject, resource=exchange_parties["mcp"])
    elif case == "more scope":
        answer = exchange(exchange_parties, subject, scope="journal:read journal:write")
    else:
        answer = exchange(exchange_parties, "not-a-token")
    assert answer.status_code in (400, 401), answer.text
    assert answer.json()["error"] == expected_error
