"""Malformed requests, generated: each gets a 4xx or a JSON-RPC error, never a 5xx, and the server keeps serving.

Hypothesis generates requests that are wrong the ways a broken or hostile client is wrong: bodies that
are not JSON or not UTF-8, JSON that is not an object, JSON-RPC with fields of the wrong type, huge
strings, deep nesting, odd headers and methods. Two thirds are addressed correctly, inside a live
session or as a sessionless 2026-07-28 request, so that the wrong types get past the transport to the
server's request handlers. `make test` sends the same 250 every run, so a failure in CI reproduces on a
laptop; `make fuzz` sends 2,000 new ones (the suite's hypothesis profiles, in the repository's conftest.py).
"""

import json
from typing import Any

import anyio
import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from lesson01.tests.support import raw_http

# How many inputs, and whether the same ones each run: the suite's profile (the repository's conftest.py).
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
METHODS = ["tools/call", "tools/list", "initialize", "ping", "resources/read", "prompts/get", "completion/complete"]
TOOL_NAMES = ["echo_message", "add_numbers", "no_such_tool"]
ARGUMENTS = ["message", "num1", "num2"]
MODERN = raw_http.MODERN

# Any JSON value, a little nested: in a JSON-RPC field, most of them are the wrong type.
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
tool_names = st.sampled_from(TOOL_NAMES)
# Params of every shape: a tool call with odd arguments; fields missing or of the wrong type; not an object.
params = st.one_of(
    st.fixed_dictionaries({"name": tool_names, "arguments": st.dictionaries(st.sampled_from(ARGUMENTS), any_json)}),
    st.fixed_dictionaries({}, optional={"name": tool_names | any_json, "arguments": any_json, "uri": any_json}),
    any_json,
)
jsonrpc_requests = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "id": st.integers(), "method": st.sampled_from(METHODS), "params": params}
)
# Messages whose envelope itself is wrong: `id` an object, `method` a number, fields missing.
broken_messages = st.fixed_dictionaries(
    {}, optional={"jsonrpc": any_json, "id": any_json, "method": any_json, "params": params}
)
jsonrpc_bodies = (jsonrpc_requests | broken_messages).map(lambda message: json.dumps(message).encode())
bodies = st.one_of(
    jsonrpc_bodies,
    any_json.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=100),  # not JSON, often not UTF-8
    st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,  # nested deeper than any parser recurses
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "x" * 1_000_000}).encode(),
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x" * 100_000}}).encode(),
        ]
    ),
)
# Header values a client can put on the wire: Latin-1 bytes, no control characters, no space at either end.
odd_values = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=40).map(
    lambda value: value.strip().encode("latin-1")
)
odd_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"])
        | odd_values,
        "Accept": st.sampled_from(["application/json, text/event-stream", "application/json", "*/*"]) | odd_values,
        "Mcp-Session-Id": st.just("no-such-session") | odd_values,
        "MCP-Protocol-Version": st.sampled_from([raw_http.PROTOCOL_VERSION, MODERN, "1999-01-01"]) | odd_values,
        "Authorization": st.just("Bearer not-a-token") | odd_values,
    },
)
JSON_POST = {**raw_http.ACCEPT, "Content-Type": "application/json"}

Request = tuple[str, dict[str, Any], bytes]  # HTTP method, headers, body


def sessionless(message: dict[str, Any]) -> Request:
    """`message` as a 2026-07-28 client sends it: no session, its protocol version and method in headers."""
    headers = {**JSON_POST, "MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]}
    params = message["params"]
    if isinstance(params, dict):
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        params = {**params, "_meta": meta}
        if params.get("name") in TOOL_NAMES:
            headers["Mcp-Name"] = params["name"]
    return "POST", headers, json.dumps({**message, "params": params}).encode()


def malformed_requests(session_id: str) -> st.SearchStrategy[Request]:
    """Odd all over; or JSON-RPC posted inside the live session; or JSON-RPC in a sessionless request."""
    anywhere = st.tuples(st.sampled_from(["POST", "GET", "DELETE", "PUT"]), odd_headers, bodies)
    # Only POSTs carry the live session: a GET would open its event stream, a DELETE would end it.
    session = {**JSON_POST, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": raw_http.PROTOCOL_VERSION}
    in_session = st.tuples(st.just("POST"), st.just(session), jsonrpc_bodies)
    return anywhere | in_session | jsonrpc_requests.map(sessionless)


def test_no_malformed_request_gets_a_5xx_and_the_server_keeps_serving(server) -> None:
    with httpx2.Client(base_url=server.base_url, timeout=5) as http:
        session_id = raw_http.open_session(http)

        @FUZZ
        @given(malformed_requests(session_id))
        def is_refused_cleanly(request: Request) -> None:
            method, headers, body = request
            response = http.request(method, "/mcp", headers=headers, content=body)
            assert response.status_code < 500, response.text

        is_refused_cleanly()

    assert httpx2.get(f"{server.base_url}/healthz").status_code == 200
    anyio.run(lists_and_calls_a_tool, server.mcp_url)


async def lists_and_calls_a_tool(url: str) -> None:
    async with Client(url) as client:
        assert "echo_message" in {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("echo_message", {"message": "still here"})
    assert result.structured_content == {"result": "Echo: still here"}
