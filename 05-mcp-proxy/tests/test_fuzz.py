"""Malformed requests, generated, at lesson 05's proxy: a 4xx or a JSON-RPC error each, never a 5xx.

Hypothesis generates requests that are wrong the ways a broken or hostile client is wrong: bodies
that are not JSON or not UTF-8, JSON that is not an object, JSON-RPC with fields of the wrong type,
huge strings, deep nesting, odd headers, methods and paths. A quarter carry no valid token
(none, a wrong one, an odd header), so they fuzz the gate itself; the rest carry one, and two
thirds of those are addressed well enough (inside a live session, or as a sessionless 2026-07-28
request) that the wrong types get past the transport to the proxy's own handlers: routing by name,
cursors, resource URIs. `make test` sends the same 250 every run, so a failure in CI reproduces on a
laptop; `make fuzz` sends 2,000 new ones (the suite's hypothesis profiles, in the repository's conftest.py).
"""

import json
from typing import Any

import anyio
import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesson05.tests.support import clients, raw_http, tokens

# How many inputs, and whether the same ones each run: the suite's profile (the repository's conftest.py).
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
]
TOOL_NAMES = ["basic__add_numbers", "basic__echo_message", "faulty__calc", "add_numbers", "nobody__x", "__", ""]
ARGUMENTS = ["message", "num1", "num2"]
PATHS = ["/mcp", "/basic/mcp", "/faulty/mcp", "/nobody/mcp", "/mcp/", "//mcp", "/%2e%2e/mcp", "/basic%2Fmcp"]
MODERN = "2026-07-28"  # the sessionless protocol: each request carries its version in `_meta` and headers
VALID = {"Authorization": f"Bearer {tokens.PROXY_WIDE}"}  # what the `guarded` proxy admits (conftest.py)

# Any JSON value, a little nested: in a JSON-RPC field, most of them are the wrong type.
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
tool_names = st.sampled_from(TOOL_NAMES)
# What the proxy's own handlers read: a cursor it decodes, a URI it splits, a reference it routes.
cursors = st.text(max_size=30) | st.sampled_from(["YmFzaWNfX3o=", "/w==", "", "=="]) | any_json
uris = st.sampled_from(["basic+x://y", "faulty+status://now", "nobody+a://b", "+", "a+", "+b"]) | st.text(max_size=20)
params = st.one_of(
    st.fixed_dictionaries({"name": tool_names, "arguments": st.dictionaries(st.sampled_from(ARGUMENTS), any_json)}),
    st.fixed_dictionaries(
        {},
        optional={
            "name": tool_names | any_json,
            "arguments": any_json,
            "uri": uris | any_json,
            "cursor": cursors,
            "ref": st.fixed_dictionaries({"type": st.sampled_from(["ref/prompt", "ref/resource"]), "uri": uris})
            | any_json,
            "argument": any_json,
        },
    ),
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
authorizations = st.sampled_from(
    [f"Bearer {tokens.PROXY_WIDE}x", f"Basic {tokens.PROXY_WIDE}", f"bearer  {tokens.FAULTY_ONLY}", "Bearer"]
) | odd_values.map(lambda value: (b"Bearer " + value).strip())
odd_headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"])
        | odd_values,
        "Accept": st.sampled_from(["application/json, text/event-stream", "application/json", "*/*"]) | odd_values,
        "Mcp-Session-Id": st.just("no-such-session") | odd_values,
        "MCP-Protocol-Version": st.sampled_from([raw_http.PROTOCOL_VERSION, MODERN, "1999-01-01"]) | odd_values,
    },
)
JSON_POST = {**raw_http.ACCEPT, "Content-Type": "application/json"}

Request = tuple[str, str, dict[str, Any], bytes]  # HTTP method, path, headers, body


def sessionless(message: dict[str, Any]) -> Request:
    """`message` as a 2026-07-28 client sends it: no session, its protocol version and method in headers."""
    headers = {**JSON_POST, **VALID, "MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]}
    params = message["params"]
    if isinstance(params, dict):
        meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
        params = {**params, "_meta": meta}
        if params.get("name") in TOOL_NAMES:
            headers["Mcp-Name"] = params["name"]
    return "POST", "/mcp", headers, json.dumps({**message, "params": params}).encode()


def anywhere(headers: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Request]:
    return st.tuples(st.sampled_from(["POST", "GET", "DELETE", "PUT"]), st.sampled_from(PATHS), headers, bodies)


def admitted_requests(session_id: str) -> st.SearchStrategy[Request]:
    """With the gate's token: odd all over; or JSON-RPC posted inside the live session; or sessionless."""
    # Only POSTs carry the live session: a GET would open its event stream, a DELETE would end it.
    session = {**JSON_POST, **VALID, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": raw_http.PROTOCOL_VERSION}
    in_session = st.tuples(st.just("POST"), st.just("/mcp"), st.just(session), jsonrpc_bodies)
    return (
        anywhere(odd_headers.map(lambda headers: {**headers, **VALID})) | in_session | jsonrpc_requests.map(sessionless)
    )


def refused_requests(session_id: str) -> st.SearchStrategy[Request]:
    """Without a valid token (none, a wrong one, an odd header), sometimes inside someone else's session."""
    headers = st.tuples(odd_headers, st.none() | authorizations, st.booleans()).map(
        lambda drawn: {
            **drawn[0],
            **({"Authorization": drawn[1]} if drawn[1] is not None else {}),
            **({"Mcp-Session-Id": session_id} if drawn[2] else {}),
        }
    )
    return anywhere(headers)


def malformed_requests(session_id: str) -> st.SearchStrategy[Request]:
    return st.one_of(admitted_requests(session_id), refused_requests(session_id))


def test_no_malformed_request_gets_a_5xx_with_or_without_a_token(guarded) -> None:
    with httpx2.Client(base_url=guarded.base_url, timeout=10, headers=VALID) as opener:
        session_id = raw_http.open_session(opener)
    with httpx2.Client(base_url=guarded.base_url, timeout=10) as http:

        @FUZZ
        @given(malformed_requests(session_id))
        def is_refused_cleanly(request: Request) -> None:
            method, path, headers, body = request
            response = http.request(method, path, headers=headers, content=body)
            assert response.status_code < 500, response.text

        is_refused_cleanly()

    assert httpx2.get(f"{guarded.base_url}/healthz").status_code == 200
    anyio.run(lists_and_calls_a_tool, guarded.mcp_url)


async def lists_and_calls_a_tool(url: str) -> None:
    async with clients.connect(url, tokens.PROXY_WIDE) as client:
        assert "basic__add_numbers" in await clients.tool_names(client)
        result = await client.call_tool("basic__add_numbers", {"num1": 2, "num2": 3})
    assert result.structured_content == {"result": 5}
