"""The caller's token: from the Authorization header on HTTP, from API_KEY on stdio, never shown whole.

The tools show the token masked, so only the upstream can show that the whole token arrived: most
tests here run a server whose upstream records the Authorization header of every call it gets.
On HTTP the token is the one of an `Authorization: Bearer <token>` header (RFC 6750), and nothing
else: a header without the scheme carries no token (`bearer_token`, server/gate.py). A server whose
upstream fails is served in the test process (`support/in_process.py`): what its tool answers is the
subject, not its process.
"""

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lesson02.labs.shared_state.slow_caller import SlowCaller
from lesson02.server.gate import bearer_token
from lesson02.tests.support import clients, in_process, processes, recording_upstream, tokens
from lesson02.tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def recorder() -> Iterator[recording_upstream.RecordingUpstream]:
    """An upstream, in the test process, that records the Authorization header of every call."""
    with recording_upstream.start() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def recorded_server(recorder) -> Iterator[processes.RunningServer]:
    """An HTTP server whose upstream is the recorder, logging at debug."""
    arguments = ["--transport", "http", "--upstream-url", recorder.url, "--log-level", "debug"]
    with processes.start_process("server", *arguments) as running:
        yield running


@pytest.fixture(scope="module", params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    """The transport under test: every test that takes `alice` or `anonymous` runs over both."""
    return request.param


def caller(transport: str, token: str | None, server, recorder) -> AbstractAsyncContextManager[Client]:
    """A `Client` that sends `token` over `transport` to a server whose upstream is the recorder."""
    if transport == "stdio":
        return Client(processes.stdio_server("--upstream-url", recorder.url, token=token))
    return clients.connect(server.mcp_url, token)


@pytest.fixture(scope="module")
async def alice(transport: str, recorded_server, recorder) -> AsyncIterator[Client]:
    """Alice's session, shared by the module's tests: her token in the header (HTTP) or in API_KEY (stdio)."""
    async with caller(transport, tokens.ALICE, recorded_server, recorder) as client:
        yield client


@pytest.fixture(scope="module")
async def anonymous(transport: str, recorded_server, recorder) -> AsyncIterator[Client]:
    """A session that sends no token at all."""
    async with caller(transport, None, recorded_server, recorder) as client:
        yield client


async def test_show_auth_token_shows_the_token_masked(alice: Client) -> None:
    result = await alice.call_tool("show_auth_token", {})
    assert not result.is_error
    assert result.structured_content == {"result": tokens.ALICE_SHOWN}


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("1234567", "****"),  # shorter than 8: nothing of it
        ("12345678", "1****"),  # an eighth of it
        ("0123456789abcdef", "01****"),
        ("0123456789abcdef" * 4, "0123****"),  # never more than 4 characters
    ],
)
async def test_the_mask_shows_an_eighth_of_the_token_and_at_most_4_characters(
    recorded_server, token: str, shown: str
) -> None:
    async with clients.connect(recorded_server.mcp_url, token) as client:
        result = await client.call_tool("show_auth_token", {})
    assert result.structured_content == {"result": shown}


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc.DEF-1_~+/==", "abc.DEF-1_~+/=="),  # the scheme in any case; every token68 character
        ("abc", None),  # a bare token: no scheme, so no token
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer a b", None),  # one token, not two
        ("Bearer a,b", None),
        (None, None),
    ],
)
def test_a_token_is_read_from_bearer_credentials_only(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


async def test_a_bare_token_in_the_header_is_no_token(recorded_server, recorder) -> None:
    calls = len(recorder.authorizations)
    async with (
        httpx2.AsyncClient(headers={"Authorization": tokens.ALICE}) as http,
        Client(streamable_http_client(recorded_server.mcp_url, http_client=http)) as client,
    ):
        shown = await client.call_tool("show_auth_token", {})
        called = await client.call_tool("make_authenticated_request", {"message": "bare"})
    assert shown.is_error and "No token" in shown.content[0].text
    assert called.is_error and "No token" in called.content[0].text
    assert len(recorder.authorizations) == calls  # the upstream was never called


async def test_the_whole_token_reaches_the_upstream_but_not_the_result(alice: Client, recorder) -> None:
    result = await alice.call_tool("make_authenticated_request", {"message": "hello upstream"})
    assert not result.is_error, result.content
    assert recorder.authorizations[-1] == f"Bearer {tokens.ALICE}"
    assert result.structured_content["args"] == {"message": "hello upstream"}
    assert result.structured_content["headers"]["Authorization"] == f"Bearer {tokens.ALICE_SHOWN}"
    assert tokens.ALICE not in result.model_dump_json()


async def test_missing_token_is_a_tool_error_that_says_how_to_send_one(anonymous: Client) -> None:
    for tool, arguments in (("show_auth_token", {}), ("make_authenticated_request", {"message": "hi"})):
        result = await anonymous.call_tool(tool, arguments)
        assert result.is_error
        text = result.content[0].text
        assert "No token" in text
        assert "Authorization: Bearer" in text
        assert "API_KEY" in text


async def test_the_shipped_echo_upstream_answers_like_httpbin(server) -> None:
    async with clients.connect(server.mcp_url, tokens.ALICE) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "offline is fine"})
    assert not result.is_error, result.content
    assert result.structured_content["args"] == {"message": "offline is fine"}
    assert result.structured_content["headers"]["Authorization"] == f"Bearer {tokens.ALICE_SHOWN}"
    assert result.structured_content["headers"]["User-Agent"].startswith("python-httpx2/")


async def test_upstream_down_is_a_tool_error_and_the_server_keeps_serving() -> None:
    down = "http://127.0.0.1:9/anything"
    with in_process.mcp_server_in_thread(down) as server:
        async with clients.connect(server.mcp_url, tokens.ALICE) as client:
            result = await client.call_tool("make_authenticated_request", {"message": "anyone?"})
            assert result.is_error
            assert f"Upstream {down} unreachable: ConnectError" in result.content[0].text
            assert (await client.call_tool("echo_message", {"message": "still here"})).is_error is False


async def test_upstream_error_status_is_a_tool_error(echo_upstream) -> None:
    failing = f"{echo_upstream.base_url}/status/503"
    with in_process.mcp_server_in_thread(failing) as server:
        async with clients.connect(server.mcp_url, tokens.ALICE) as client:
            result = await client.call_tool("make_authenticated_request", {"message": "anyone?"})
    assert result.is_error
    assert f"Upstream {failing} answered 503 Service Unavailable" in result.content[0].text


async def test_concurrent_sessions_never_see_each_others_token(recorded_server) -> None:
    callers = {tokens.ALICE: tokens.ALICE_SHOWN, tokens.BOB: tokens.BOB_SHOWN}
    seen: dict[str, list[str]] = {token: [] for token in callers}

    async def call_repeatedly(token: str) -> None:
        async with clients.connect(recorded_server.mcp_url, token) as client:
            for _ in range(15):
                result = await client.call_tool("show_auth_token", {})
                seen[token].append(result.structured_content["result"])
                await anyio.lowlevel.checkpoint()  # let the other session run, so the calls interleave

    async with anyio.create_task_group() as group:
        for token in callers:
            group.start_soon(call_repeatedly, token)

    assert seen == {token: [shown] * 15 for token, shown in callers.items()}


async def test_a_call_keeps_its_callers_token_while_another_caller_comes_and_goes(recorded_server, recorder) -> None:
    # Bob's request is slow to arrive: the server has read its headers, and set his token, when Alice's
    # whole call comes and goes (the lab shared_state shows a module-level variable failing this).
    bob = SlowCaller(recorded_server.mcp_url, tokens.BOB, "make_authenticated_request", {"message": "from bob"})
    bob.send_headers()
    async with clients.connect(recorded_server.mcp_url, tokens.ALICE) as alice:
        await alice.call_tool("make_authenticated_request", {"message": "from alice"})
    seen_by_bob = bob.send_body()
    assert recorder.authorizations[-2:] == [f"Bearer {tokens.ALICE}", f"Bearer {tokens.BOB}"]
    assert seen_by_bob["headers"]["Authorization"] == f"Bearer {tokens.BOB_SHOWN}"


async def test_a_cookie_the_upstream_sets_for_one_caller_never_goes_out_with_the_next_call(
    recorded_server, recorder
) -> None:
    # One HTTP client serves every caller (server/app.py): a cookie jar in it would hand Alice's
    # upstream session to Bob.
    async with clients.connect(recorded_server.mcp_url, tokens.ALICE) as alice:
        await alice.call_tool("make_authenticated_request", {"message": "alice"})
    async with clients.connect(recorded_server.mcp_url, tokens.BOB) as bob:
        seen = await bob.call_tool("make_authenticated_request", {"message": "bob"})
    assert recorder.authorizations[-2:] == [f"Bearer {tokens.ALICE}", f"Bearer {tokens.BOB}"]
    assert recorder.cookies[-2:] == [None, None]
    assert "Cookie" not in seen.structured_content["headers"]


async def test_logs_carry_a_request_id_and_never_the_token(recorded_server) -> None:
    async with clients.connect(recorded_server.mcp_url, tokens.ALICE) as client:
        await client.call_tool("show_auth_token", {})
        await client.call_tool("make_authenticated_request", {"message": "trace me"})
    upstream_call = re.compile(r"httpx2 \[([0-9a-f-]{36})\] HTTP Request: GET \S+/anything\?message=trace\+me")

    def log_with_the_upstream_call() -> str | None:
        log = recorded_server.logged()
        return log if upstream_call.search(log) else None

    log = eventually(log_with_the_upstream_call, message="the upstream call in the server's log")
    assert tokens.ALICE not in log
    # The tool's own line and the HTTP client's line for the upstream call share one request id.
    request_id = upstream_call.search(log).group(1)
    shown = re.escape(tokens.ALICE_SHOWN)
    assert re.search(rf"\[{request_id}\] calling http://127\.0\.0\.1:\d+/anything with token {shown}", log), log
    # Each message gets its own id.
    show_auth_token_ids = re.findall(rf"\[([0-9a-f-]{{36}})\] show_auth_token: {shown}", log)
    assert show_auth_token_ids, log
    assert request_id not in show_auth_token_ids


async def test_at_debug_level_a_refused_upstream_call_writes_no_token_and_no_cookie(recorded_server) -> None:
    # The moment a token leaks: the upstream refuses it, and the log level is up to see why (the lab
    # token_exposure runs a server that writes it in its log and in its error). At debug level httpcore2
    # writes the upstream's response headers, its Set-Cookie too, unless the server keeps it at info.
    async with clients.connect(recorded_server.mcp_url, tokens.ALICE) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "refuse this one"})
    assert result.is_error
    assert result.content[0].text.endswith("answered 401 Unauthorized"), result.content
    assert tokens.ALICE not in result.content[0].text

    def log_with_the_refusal() -> str | None:
        log = recorded_server.logged()
        return log if "failed: 'Error executing tool make_authenticated_request: Upstream" in log else None

    log = eventually(log_with_the_refusal, message="the refused call in the server's log")
    assert f"with token {tokens.ALICE_SHOWN}" in log
    assert tokens.ALICE not in log
    assert recording_upstream.REFUSAL_SESSION not in log


def test_a_token_in_the_url_is_not_written_in_the_access_log(server) -> None:
    # A client that puts its token in the URL (the MCP authorization spec forbids it) hands it to
    # uvicorn's access log, which writes each request's path at info, the default level: the server
    # writes `?...` in place of a query (server/logs.py).
    queries = [f"?token={tokens.ALICE}", f"?access_token={tokens.ALICE}&state=x", f"?api_key={tokens.ALICE}"]
    access_line = '"POST /mcp?'  # how the access line of such a request starts, with or without its query
    before = server.logged().count(access_line)
    ping, accept = {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Accept": "application/json, text/event-stream"}
    for query in queries:
        httpx2.post(server.mcp_url + query, json=ping, headers=accept, timeout=10)

    def every_access_line() -> bool:
        return server.logged().count(access_line) >= before + len(queries)

    eventually(every_access_line, 10, "an access line for each request")
    log = server.logged()
    assert tokens.ALICE not in log
    assert log.count('"POST /mcp?... HTTP/1.1"') >= len(queries)
