"""The caller's token: from the Authorization header on HTTP, from API_KEY on stdio, never shown whole.

On HTTP the token is the one of an `Authorization: Bearer <token>` header (RFC 6750), and nothing
else: a header without the scheme carries no token (`bearer_token`, server/gate.py).
"""

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lesson04.server.gate import bearer_token
from lesson04.tests.support import clients, in_process, processes, tokens
from lesson04.tests.support.in_process_client import run_client
from lesson04.tests.support.recording_upstream import REFUSAL_SESSION
from lesson04.tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

TOKEN, MASKED = tokens.ALICE, tokens.ALICE_MASKED


@pytest.fixture(scope="module")
def recorded_server(recording_upstream) -> Iterator[processes.RunningServer]:
    """An HTTP server whose upstream records the Authorization header it receives, logging at debug."""
    with processes.start_http_server("--upstream-url", recording_upstream.url, "--log-level", "debug") as running:
        yield running


@pytest.fixture(params=["stdio", "http"])
def connect(request, recorded_server, recording_upstream):
    """Connect over the transport under test to a server whose upstream is the recorder."""

    @asynccontextmanager
    async def connected(token: str | None) -> AsyncIterator[Client]:
        if request.param == "stdio":
            env = {"API_KEY": token} if token else None
            target = clients.stdio_server("--upstream-url", recording_upstream.url, env=env)
        else:
            target = recorded_server.mcp_url
        async with clients.connect(target, token) as client:
            yield client

    return connected


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        (TOKEN, MASKED),  # 23 characters: an eighth of it is 2
        ("0123456789abcdef0123456789abcdef", "0123****"),  # never more than 4, however long
        ("12345678", "1****"),
        ("1234567", "****"),  # shorter than 8: nothing of it
        ("x", "****"),
    ],
)
# Over HTTP only, to keep the suite fast: the masking is the same code on both
# transports, and the stdio token path is tested below and in test_cli.
@pytest.mark.parametrize("connect", ["http"], indirect=True)
async def test_show_auth_token_masks_the_token(connect, token: str, shown: str) -> None:
    async with connect(token) as client:
        result = await client.call_tool("show_auth_token", {})
    assert not result.is_error
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


async def test_a_bare_token_in_the_header_is_no_token(recorded_server, recording_upstream) -> None:
    calls = len(recording_upstream.authorizations)
    async with (
        httpx2.AsyncClient(headers={"Authorization": TOKEN}) as http,
        Client(streamable_http_client(recorded_server.mcp_url, http_client=http)) as client,
    ):
        shown = await client.call_tool("show_auth_token", {})
        called = await client.call_tool("make_authenticated_request", {"message": "bare"})
    assert shown.is_error and "No token" in shown.content[0].text
    assert called.is_error and "No token" in called.content[0].text
    assert len(recording_upstream.authorizations) == calls  # the upstream was never called


async def test_the_whole_token_reaches_the_upstream_but_not_the_result(connect, recording_upstream) -> None:
    async with connect(TOKEN) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "hello upstream"})
    assert not result.is_error, result.content
    assert recording_upstream.authorizations[-1] == f"Bearer {TOKEN}"
    assert result.structured_content["args"] == {"message": "hello upstream"}
    assert result.structured_content["headers"]["Authorization"] == f"Bearer {MASKED}"
    assert TOKEN not in result.model_dump_json()


@pytest.mark.parametrize("connect", ["http"], indirect=True)  # two callers share one server over HTTP only
async def test_a_cookie_the_upstream_sets_for_one_caller_never_goes_out_with_the_next_call(
    connect, recording_upstream
) -> None:
    # One HTTP client serves every caller (server/app.py): a cookie jar in it would hand Alice's
    # upstream session to Bob.
    async with connect(TOKEN) as alice:
        await alice.call_tool("make_authenticated_request", {"message": "alice"})
    async with connect(tokens.BOB) as bob:
        seen = await bob.call_tool("make_authenticated_request", {"message": "bob"})
    assert recording_upstream.authorizations[-2:] == [f"Bearer {TOKEN}", f"Bearer {tokens.BOB}"]
    assert recording_upstream.cookies[-2:] == [None, None]
    assert "Cookie" not in seen.structured_content["headers"]


async def test_at_debug_level_a_refused_upstream_call_writes_no_token_and_no_cookie(recorded_server) -> None:
    # The moment a token leaks: the upstream refuses it, and the log level is up to see why (lesson 02's
    # lab token_exposure). At debug level httpcore2 writes the upstream's response headers, its
    # Set-Cookie too, unless the server keeps it at info: on stderr, and to a collector when logs are exported.
    async with clients.connect(recorded_server.mcp_url, TOKEN) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "refuse this one"})
    assert result.is_error
    assert result.content[0].text.endswith("answered 401 Unauthorized"), result.content
    assert TOKEN not in result.content[0].text

    def log_with_the_refusal() -> str | None:
        log = recorded_server.logged()
        return log if "failed: 'Error executing tool make_authenticated_request: Upstream" in log else None

    log = eventually(log_with_the_refusal, message="the refused call in the server's log")
    assert f"with token {MASKED}" in log
    assert TOKEN not in log
    assert REFUSAL_SESSION not in log


async def test_missing_token_is_a_tool_error_that_says_how_to_send_one(connect) -> None:
    async with connect(None) as client:
        for tool, arguments in (("show_auth_token", {}), ("make_authenticated_request", {"message": "hi"})):
            result = await client.call_tool(tool, arguments)
            assert result.is_error
            text = result.content[0].text
            assert "No token" in text
            assert "Authorization: Bearer" in text
            assert "API_KEY" in text


async def test_the_shipped_echo_upstream_answers_like_httpbin(server) -> None:
    async with clients.connect(server.mcp_url, TOKEN) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "offline is fine"})
    assert not result.is_error, result.content
    assert result.structured_content["args"] == {"message": "offline is fine"}
    assert result.structured_content["headers"]["Authorization"] == f"Bearer {MASKED}"
    assert result.structured_content["headers"]["User-Agent"].startswith("python-httpx2/")


# The two below need a server of their own, with the upstream they name: in this process, as they test
# what the tool does, not the process.


async def test_upstream_down_is_a_tool_error_and_the_server_keeps_serving() -> None:
    with in_process.mcp_server_in_thread("http://127.0.0.1:9/anything") as server:
        async with clients.connect(server.mcp_url, TOKEN) as client:
            result = await client.call_tool("make_authenticated_request", {"message": "anyone?"})
            assert result.is_error
            assert "Upstream http://127.0.0.1:9/anything unreachable: ConnectError" in result.content[0].text
            assert (await client.call_tool("echo_message", {"message": "still here"})).is_error is False


async def test_upstream_error_status_is_a_tool_error(echo_upstream) -> None:
    failing = f"{echo_upstream.base_url}/status/503"
    with in_process.mcp_server_in_thread(failing) as server:
        async with clients.connect(server.mcp_url, TOKEN) as client:
            result = await client.call_tool("make_authenticated_request", {"message": "anyone?"})
    assert result.is_error
    assert f"Upstream {failing} answered 503 Service Unavailable" in result.content[0].text


async def test_concurrent_sessions_never_see_each_others_token(recorded_server) -> None:
    callers = {"alice": "alice-token-aaaaaaaa-AA", "bob": "bobbob-token-bbbbbbbb-BB"}
    seen: dict[str, list[str]] = {name: [] for name in callers}

    async def caller(name: str) -> None:
        async with clients.connect(recorded_server.mcp_url, callers[name]) as client:
            for _ in range(15):
                result = await client.call_tool("show_auth_token", {})
                seen[name].append(result.structured_content["result"])
                await anyio.lowlevel.checkpoint()  # yield, so the two sessions' calls interleave

    async with anyio.create_task_group() as group:
        for name in callers:
            group.start_soon(caller, name)

    assert seen == {"alice": ["al****"] * 15, "bob": ["bob****"] * 15}  # 23 and 24 characters


def test_logs_carry_trace_ids_and_never_the_token(server) -> None:
    # The client in this process (its output is read, not its exit), the server a process of its own.
    called = run_client(
        "--url", server.mcp_url, "--token", TOKEN, "call", "make_authenticated_request", "message=trace me"
    )
    assert called.returncode == 0, called.stderr
    # The trace id the client printed is on the server's lines for that call: the tool's own line
    # and the HTTP client's line for the upstream call.
    trace_id = re.search(r"^trace_id: ([0-9a-f]{32})$", called.stderr, re.M).group(1)
    calling = rf"\[trace_id={trace_id} span_id=([0-9a-f]{{16}})\] calling http://127\.0\.0\.1:\d+/anything "
    calling += rf"with token {re.escape(MASKED)}"
    tool_line = eventually(lambda: re.search(calling, server.logged()), message="the tool's log line")
    assert re.search(
        rf"httpx2 \[trace_id={trace_id} span_id={tool_line.group(1)}\] "
        r"HTTP Request: GET http://127\.0\.0\.1:\d+/anything\?message=trace",
        server.logged(),
    )
    # uvicorn's access lines carry it too: the server reads the `traceparent` header of each request.
    assert re.search(
        rf'uvicorn\.access \[trace_id={trace_id} span_id=[0-9a-f]{{16}}\] .* "POST /mcp HTTP/1\.1" 200', server.logged()
    )
    # The server is shared: this holds for every token every test has sent it so far.
    assert TOKEN not in server.logged()


def test_a_token_in_the_url_is_not_written_in_the_access_log(server) -> None:
    # A client that puts its token in the URL (the MCP authorization spec forbids it) hands it to
    # uvicorn's access log, which writes each request's path at info, the default level: the server
    # writes `?...` in place of a query (server/logs.py).
    queries = [f"?token={TOKEN}", f"?access_token={TOKEN}&state=x", f"?api_key={TOKEN}"]
    access_line = '"POST /mcp?'  # how the access line of such a request starts, with or without its query
    before = server.logged().count(access_line)
    ping, accept = {"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"Accept": "application/json, text/event-stream"}
    for query in queries:
        httpx2.post(server.mcp_url + query, json=ping, headers=accept, timeout=10)

    def every_access_line() -> bool:
        return server.logged().count(access_line) >= before + len(queries)

    eventually(every_access_line, 10, "an access line for each request")
    log = server.logged()
    assert TOKEN not in log
    assert log.count('"POST /mcp?... HTTP/1.1"') >= len(queries)
