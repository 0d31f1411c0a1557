"""Server-to-client streams are bounded: how many the proxy holds open at once, and how long each stays open.

A stream is the GET on /mcp (or /<backend>/mcp) of a 2025-era session, or the answer to a
2026-era `subscriptions/listen`; each holds a connection for as long as the client likes
(server/streams.py, as in lesson 01). The proxy's GET streams carry the notifications it relays,
so a client reopens one after each `--stream-timeout`. The proxies here run with small limits so
that the tests reach them at once; the defaults are 100 streams and 300 s.
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

from lesson05.server.streams import StreamLimits
from lesson05.tests.support import backends, clients, processes, proxies, raw_http
from lesson05.tests.support.waiting import eventually


@pytest.fixture(scope="module")
def two_streams() -> Iterator["proxies.RunningProxy"]:
    """A proxy in front of lesson 01 (over HTTP) that holds at most two streams at once: `--max-streams 2`."""
    port = processes.free_port()
    with (
        backends.lesson_01_over_http(port) as basic,
        proxies.proxy_in_thread({"basic": {"url": basic}}, limits=StreamLimits(max_open=2)) as proxy,
    ):
        yield proxy


@pytest.fixture(scope="module")
def half_second_streams() -> Iterator["proxies.RunningProxy"]:
    """A proxy with no backends that ends every stream after half a second: `--stream-timeout 0.5`."""
    with proxies.proxy_in_thread({}, limits=StreamLimits(max_seconds=0.5)) as proxy:
        yield proxy


@contextmanager
def session(proxy: "proxies.RunningProxy", path: str = "/mcp") -> Iterator[httpx2.Client]:
    """An HTTP client in a fresh MCP session (2025 handshake) on `path`: its Mcp-Session-Id sent on every request."""
    with httpx2.Client(base_url=proxy.base_url, headers=raw_http.ACCEPT, timeout=10) as http:
        http.headers["Mcp-Session-Id"] = raw_http.open_session(http, path)
        http.headers["MCP-Protocol-Version"] = raw_http.PROTOCOL_VERSION
        yield http


def open_stream(stack: ExitStack, proxy: "proxies.RunningProxy", path: str) -> httpx2.Response:
    """A GET stream on `path` in a session of its own, held open until `stack` closes."""
    http = stack.enter_context(session(proxy, path))
    return stack.enter_context(http.stream("GET", path))


def test_a_stream_beyond_the_limit_is_refused_and_everything_else_is_served(two_streams) -> None:
    with ExitStack() as held:
        # One on the merged endpoint, one on the backend's own route: they count alike.
        assert [open_stream(held, two_streams, path).status_code for path in ("/mcp", "/basic/mcp")] == [200, 200]

        with session(two_streams) as http:
            refused = http.get("/mcp")
            assert refused.status_code == 503
            assert refused.json()["error"]["message"] == "Too many open streams"
            assert refused.headers["retry-after"] == "300"  # every open stream ends within --stream-timeout
            with http.stream("POST", "/mcp", **raw_http.listen_request()) as listen:  # a 2026 stream counts too
                assert listen.status_code == 503
            # Ordinary requests are not streams: the proxy still answers them, and still calls backends.
            listed = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
            names = {tool["name"] for tool in raw_http.jsonrpc_body(listed)["result"]["tools"]}
            assert names == {"basic__echo_message", "basic__add_numbers"}
        anyio.run(calls_a_tool, two_streams.mcp_url)

    # The held streams are closed: their places are free again.
    def a_stream_opens() -> bool:
        with ExitStack() as again:
            return open_stream(again, two_streams, "/mcp").status_code == 200

    eventually(a_stream_opens, message="a new stream once the others closed")


async def calls_a_tool(url: str) -> None:
    async with clients.connect(url) as client:
        result = await client.call_tool("basic__echo_message", {"message": "still here"})
    assert result.structured_content == {"result": "Echo: still here"}


def test_the_proxy_ends_a_stream_after_the_timeout_and_the_session_may_open_another(half_second_streams) -> None:
    with session(half_second_streams) as http:
        for _ in range(2):  # the second GET in the same session: the first one's place was given back
            with http.stream("GET", "/mcp") as stream:
                assert stream.status_code == 200
                assert stream.read() == b""  # a complete response: ended by the proxy, not broken off


def test_the_proxy_ends_a_listen_stream_after_the_timeout(half_second_streams) -> None:
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


def test_a_stopping_proxy_ends_its_open_streams_at_once() -> None:
    # A listen stream, unlike the SDK's GET stream, is not ended by uvicorn's shutdown: the proxy ends it.
    with (
        proxies.start_proxy({}) as proxy,
        httpx2.Client(base_url=proxy.base_url, timeout=30) as http,
        http.stream("POST", "/mcp", **raw_http.listen_request()) as listen,
    ):
        assert listen.status_code == 200
        proxy.process.send_signal(signal.SIGTERM)
        events = listen.read().decode()  # returns once the stream ends; raises if it is cut off instead
        log = proxy.stop()
    assert "notifications/subscriptions/acknowledged" in events
    # Stopped by itself (uvicorn re-raises the SIGTERM once it is done), without waiting out its grace period.
    assert proxy.process.returncode in (0, -signal.SIGTERM), log
    assert "timeout graceful shutdown exceeded" not in log
    assert "Application shutdown complete" in log
