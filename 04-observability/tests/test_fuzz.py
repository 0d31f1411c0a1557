"""Malformed requests, generated, against each HTTP server of the lesson: never a 5xx, and still serving.

Property-based with Hypothesis: the MCP server's `/mcp` and the echo upstream each get generated
requests (support/malformed.py): 250 in `make test`, the same every run, or 2,000 new ones in
`make fuzz`. Every answer must be below 500: a 4xx, or a JSON-RPC error, or a valid answer.
Afterwards each still answers `/healthz`, and a real MCP session still lists and calls tools,
through the MCP server to the echo upstream. Each input that once produced a 5xx has a named test below.
"""

from collections.abc import Iterator

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings

from lesson04.tests.support import clients, malformed, processes, tokens
from lesson04.tests.support import raw_jsonrpc as raw

# How many inputs, and whether the same ones each run: the suite's profile (the repository's conftest.py).
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The servers fuzzed are the lesson's shared processes (conftest.py), the MCP server calling the echo
# upstream: what a malformed request does to them, every test that uses them afterwards meets too.


@pytest.fixture(scope="module")
def upstream(echo_upstream: processes.RunningServer) -> processes.RunningServer:
    return echo_upstream


@pytest.fixture(scope="module")
def mcp_server(server: processes.RunningServer) -> processes.RunningServer:
    return server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx2.Client]:
    """One keep-alive client for every request; a short timeout, so a hang fails fast."""
    with httpx2.Client(timeout=5) as client:
        yield client


def status_of(http: httpx2.Client, base_url: str, request) -> tuple[int, str]:
    """The status and the start of the body. A GET may open a server-sent event stream that stays
    open for as long as the session lives: its status is the answer, the stream is not read."""
    url = base_url + request.path
    with http.stream(request.method, url, headers=request.headers, content=request.body) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream") and request.method == "GET":
            return response.status_code, ""
        return response.status_code, response.read()[:300].decode(errors="replace")


async def assert_still_serving(mcp_server: processes.RunningServer, upstream: processes.RunningServer) -> None:
    for base_url in (mcp_server.base_url, upstream.base_url):
        assert httpx2.get(f"{base_url}/healthz", timeout=5).status_code == 200
    async with clients.connect(mcp_server.mcp_url, tokens.ALICE) as client:
        assert "echo_message" in {tool.name for tool in (await client.list_tools()).tools}
        echoed = await client.call_tool("make_authenticated_request", {"message": "after the fuzz"})
    assert not echoed.is_error, echoed.content
    assert echoed.structured_content["args"] == {"message": "after the fuzz"}


@pytest.fixture(scope="module")
def session_ids(mcp_server: processes.RunningServer) -> list[str]:
    """Two real sessions, so that some malformed requests reach the session's own code path."""
    with httpx2.Client(base_url=mcp_server.base_url, timeout=5) as http:
        return [raw.open_session(http), raw.open_session(http)]


@pytest.mark.anyio
async def test_the_mcp_server_answers_malformed_requests_below_500(mcp_server, upstream, session_ids, http) -> None:
    @FUZZ
    @given(request=malformed.mcp_requests(session_ids))
    def answers_below_500(request) -> None:
        status, body = status_of(http, mcp_server.base_url, request)
        assert status < 500, (request, status, body)

    answers_below_500()
    await assert_still_serving(mcp_server, upstream)


@pytest.mark.anyio
async def test_the_echo_upstream_answers_malformed_requests_below_500(mcp_server, upstream, http) -> None:
    @FUZZ
    @given(request=malformed.upstream_requests())
    def answers_below_500(request) -> None:
        status, body = status_of(http, upstream.base_url, request)
        assert status < 500, (request, status, body)

    answers_below_500()
    await assert_still_serving(mcp_server, upstream)


# Regressions: each input here once got a 5xx (or a dropped connection) from the echo upstream.


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_the_echo_upstream_echoes_json_nested_too_deep_to_parse_as_text(upstream, http, depth: int) -> None:
    body = malformed.deeply_nested(depth)
    response = http.post(f"{upstream.base_url}/anything", content=body)
    assert response.status_code == 200
    assert response.json()["json"] is None
    assert response.json()["data"] == body.decode()


@pytest.mark.parametrize("code", ["0", "-1", "150", "600", "99999", "1" + "0" * 30])
def test_the_echo_upstream_refuses_a_status_it_cannot_send(upstream, http, code: str) -> None:
    response = http.get(f"{upstream.base_url}/status/{code}")
    assert response.status_code == 422


def test_the_echo_upstream_still_answers_any_status_it_can_send(upstream, http) -> None:
    assert [http.get(f"{upstream.base_url}/status/{code}").status_code for code in (200, 404, 503)] == [200, 404, 503]
