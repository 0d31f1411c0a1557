"""Server-to-client streams are bounded: how many are open at once, and how long each stays open.

A stream is the GET on /mcp of a 2025-era session, or the answer to a 2026-era
`subscriptions/listen`; each holds a connection for as long as the client likes (server/streams.py).
The servers here run with small limits so that the tests reach them at once; the defaults are 100
streams and 300 s. They run in the test process, on real sockets: the app and the uvicorn server that
`python -m ... --transport http` runs (`support/in_process.py`). The one that stops is a real process:
its shutdown is the subject.
"""

import json
import signal
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.client import HTTPResponse

import anyio
import httpx2
import pytest
from mcp import Client

from lesson01.server.streams import StreamLimits
from lesson01.tests.support import in_process, processes, raw_http
from lesson01.tests.support.waiting import eventually


@pytest.fixture(scope="module")
def two_streams() -> Iterator[in_process.ServerInThread]:
    """A server that holds at most two streams at once: `--max-streams 2`."""
    with in_process.mcp_server_in_thread(limits=StreamLimits(max_open=2)) as running:
        yield running


@pytest.fixture(scope="module")
def half_second_streams() -> Iterator[in_process.ServerInThread]:
    """A server that ends every stream after half a second: `--stream-timeout 0.5`."""
    with in_process.mcp_server_in_thread(limits=StreamLimits(max_seconds=0.5)) as running:
        yield running


@contextmanager
def session(server: in_process.ServerInThread) -> Iterator[httpx2.Client]:
    """An HTTP client in a fresh MCP session (2025 handshake): its Mcp-Session-Id sent on every request."""
    with httpx2.Client(base_url=server.base_url, headers=raw_http.ACCEPT, timeout=10) as http:
        http.headers["Mcp-Session-Id"] = raw_http.open_session(http)
        http.headers["MCP-Protocol-Version"] = raw_http.PROTOCOL_VERSION
        yield http


def open_stream(stack: ExitStack, server: in_process.ServerInThread) -> httpx2.Response:
    """A GET stream in a session of its own, held open until `stack` closes."""
    http = stack.enter_context(session(server))
    return stack.enter_context(http.stream("GET", "/mcp"))


def test_a_stream_beyond_the_limit_is_refused_and_everything_else_is_served(two_streams) -> None:
    with ExitStack() as held:
        assert [open_stream(held, two_streams).status_code for _ in range(2)] == [200, 200]

        with session(two_streams) as http:
            refused = http.get("/mcp")
            assert refused.status_code == 503
            assert refused.json()["error"]["message"] == "Too many open streams"
            assert refused.headers["retry-after"] == "300"  # every open stream ends within --stream-timeout
            with http.stream("POST", "/mcp", **raw_http.listen_request()) as listen:  # a 2026 stream counts too
                assert listen.status_code == 503
            # Ordinary requests are not streams: the server still answers them.
            listed = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            assert {tool["name"] for tool in raw_http.jsonrpc_body(listed)["result"]["tools"]} == {
                "echo_message",
                "add_numbers",
            }
        anyio.run(calls_a_tool, two_streams.mcp_url)

    # The held streams are closed: their places are free again.
    def a_stream_opens() -> bool:
        with ExitStack() as again:
            return open_stream(again, two_streams).status_code == 200

    eventually(a_stream_opens, message="a new stream once the others closed")


async def calls_a_tool(url: str) -> None:
    async with Client(url) as client:
        result = await client.call_tool("echo_message", {"message": "still here"})
    assert result.structured_content == {"result": "Echo: still here"}


def test_the_server_ends_a_stream_after_the_timeout_and_the_session_may_open_another(half_second_streams) -> None:
    with session(half_second_streams) as http:
        for _ in range(2):  # the second GET in the same session: the first one's place was given back
            with http.stream("GET", "/mcp") as stream:
                assert stream.status_code == 200
                assert stream.read() == b""  # a complete response: ended by the server, not broken off


def test_the_server_ends_a_listen_stream_after_the_timeout(half_second_streams) -> None:
    with (
        httpx2.Client(base_url=half_second_streams.base_url, timeout=10) as http,
        http.stream("POST", "/mcp", **raw_http.listen_request()) as listen,
    ):
        assert listen.status_code == 200
        events = listen.read().decode()
    assert "notifications/subscriptions/acknowledged" in events


def test_a_stream_whose_request_never_arrives_whole_is_answered_when_its_time_is_up(half_second_streams) -> None:
    address = half_second_streams.base_url.removeprefix("http://")
    headers = {"Host": address, "Content-Length": "100", **raw_http.listen_request()["headers"]}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST /mcp HTTP/1.1\r\n{head}\r\n".encode())  # a body of 100 bytes, promised, never sent
        answer = HTTPResponse(raw)
        answer.begin()
        assert answer.status == 408
        assert json.loads(answer.read())["error"]["message"] == "The request did not arrive in time"


def test_a_stopping_server_ends_its_open_streams_at_once() -> None:
    # A listen stream, unlike the SDK's GET stream, is not ended by uvicorn's shutdown: the server ends it.
    with (
        processes.start_process("server", "--transport", "http") as server,
        httpx2.Client(base_url=server.base_url, timeout=30) as http,
        http.stream("POST", "/mcp", **raw_http.listen_request()) as listen,
    ):
        assert listen.status_code == 200
        server.process.send_signal(signal.SIGTERM)
        events = listen.read().decode()  # returns once the stream ends; raises if it is cut off instead
        log = server.stop()
    assert "notifications/subscriptions/acknowledged" in events
    # Stopped by itself (uvicorn re-raises the SIGTERM once it is done), without waiting out its grace period.
    assert server.process.returncode in (0, -signal.SIGTERM), log
    assert "timeout graceful shutdown exceeded" not in log
    assert "Application shutdown complete" in log
