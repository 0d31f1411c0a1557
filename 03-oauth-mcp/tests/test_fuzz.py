"""Malformed input, generated, at lesson 03's MCP server: always a 4xx or a JSON-RPC error, never a 5xx,
and the server keeps serving (250 inputs in `make test`, the same every run; 2,000 new ones in `make fuzz`).

Hypothesis generates the requests (bodies that are not JSON or not UTF-8, JSON-RPC with every
field of the wrong type, odd headers and methods), with and without a valid token, so both
the bearer gate and the SDK behind it are fuzzed. The named tests below are the inputs that
once produced a 500 here.
"""

import json

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ACCEPT = "application/json, text/event-stream"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
methods = st.sampled_from(["initialize", "tools/call", "tools/list", "ping", "resources/read", ""]) | json_values
params = json_values | st.fixed_dictionaries(
    {"name": st.sampled_from(["whoami", "create_entry", "nope"]) | json_values},
    optional={"arguments": json_values, "_meta": json_values},
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0"]) | json_values},
    optional={"method": methods, "params": params, "id": json_values},
)
tool_calls = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "id": st.integers(), "method": st.just("tools/call"), "params": params}
)
bodies = st.one_of(
    st.binary(max_size=64),  # not JSON, often not UTF-8
    json_values.map(json.dumps),  # JSON, but not a JSON-RPC message
    messages.map(json.dumps),
    tool_calls.map(json.dumps),  # the one method whose params the gate reads
    st.lists(messages, max_size=3).map(json.dumps),  # a batch
)
# A real token with its header rewritten: the verifier reads the header before any signature check.
header_fields = st.dictionaries(st.sampled_from(["typ", "alg", "kid", "crit", "jku"]), json_values, min_size=1)
# Printable ASCII, no surrounding spaces: anything else the HTTP client itself refuses to send.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=24).map(str.strip)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"])
        | header_text,
        "Accept": st.sampled_from([ACCEPT, "application/json", "text/event-stream", "*/*"]) | header_text,
        "Mcp-Session-Id": header_text,
        "MCP-Protocol-Version": st.sampled_from(["2025-11-25", "2026-07-28", "1999-01-01"]) | header_text,
        "Authorization": st.sampled_from(["Bearer", "Basic YTpi", "Bearer a b"]) | header_text,
    },
)


@pytest.fixture(scope="module")
def valid_token(test_issuer, resource_server) -> str:
    return test_issuer.mint(resource_server.mcp_url, subject="fuzz", scope="journal:read journal:write")


@pytest.fixture(scope="module")
def http() -> httpx2.Client:
    with httpx2.Client(timeout=10) as client:
        yield client


@settings(  # how many inputs, and whether the same ones each run: the suite's profile (conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    verb=st.sampled_from(["POST", "POST", "POST", "GET", "DELETE", "PUT"]),
    body=bodies,
    headers=headers,
    authenticated=st.booleans(),
)
def test_no_malformed_request_gets_a_5xx(
    resource_server, http, valid_token, verb, body, headers, authenticated
) -> None:
    if authenticated:
        headers = {**headers, "Authorization": f"Bearer {valid_token}"}
    response = http.request(verb, resource_server.mcp_url, content=body, headers=headers)
    assert response.status_code < 500, (verb, body, headers, response.status_code, response.text[:300])


def post(server, body: bytes | str, token: str | None = None) -> httpx2.Response:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx2.post(server.mcp_url, content=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": "whoami"}', id="params-a-string"),
        pytest.param('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": ["x"]}}', id="name-list"),
        pytest.param('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": {}}}', id="name-object"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-100000-deep"),
    ],
)
@pytest.mark.parametrize("authenticated", [False, True], ids=["no-token", "token"])
def test_inputs_that_once_were_a_500(resource_server, valid_token, body: str, authenticated: bool) -> None:
    response = post(resource_server, body, valid_token if authenticated else None)
    assert response.status_code < 500, response.text
    if not authenticated:
        assert response.status_code == 401  # no token: the gate's challenge, whatever the body


def test_a_batch_cannot_slip_a_write_past_the_scope_check(resource_server, test_issuer) -> None:
    """The gate reads the scopes a body needs from a single message; a batch holds a list. The SDK
    refuses batches (JSON-RPC batching left MCP in 2025-06-18), and require_scopes would catch one."""
    reader = test_issuer.mint(resource_server.mcp_url, subject="batch-reader", scope="journal:read")
    call = {"name": "create_entry", "arguments": {"title": "sneaked", "content": "in"}}
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}]
    response = post(resource_server, json.dumps(batch), reader)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32602


@pytest.mark.anyio
async def test_the_server_still_serves_after_the_fuzzing(resource_server, valid_token) -> None:
    assert httpx2.get(f"{resource_server.base_url}/healthz", timeout=5).status_code == 200
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {valid_token}"}) as http,
        Client(streamable_http_client(resource_server.mcp_url, http_client=http)) as client,
    ):
        assert "whoami" in {tool.name for tool in (await client.list_tools()).tools}
        assert (await client.call_tool("whoami", {})).structured_content["subject"] == "fuzz"
