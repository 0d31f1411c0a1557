"""Bad input to the HTTP endpoint gets a clear error, and the server keeps serving.

The SDK's Streamable HTTP transport does this validation; these tests pin down
what a misbehaving client sees, on the wire, without the SDK client in the way.
`test_fuzz.py` throws a thousand generated variations at the same endpoint.
"""

from collections.abc import Iterator

import httpx2
import pytest

from lesson02.tests.support import raw_http


@pytest.fixture
def session(server) -> Iterator[httpx2.Client]:
    """An HTTP client in a fresh MCP session: its Mcp-Session-Id sent on every request."""
    with httpx2.Client(base_url=server.base_url, headers=raw_http.ACCEPT, timeout=10) as http:
        http.headers["Mcp-Session-Id"] = raw_http.open_session(http)
        http.headers["MCP-Protocol-Version"] = raw_http.PROTOCOL_VERSION
        yield http
        http.delete("/mcp")


def still_serving(http: httpx2.Client) -> None:
    response = http.post("/mcp", json={"jsonrpc": "2.0", "id": 99, "method": "tools/list"})
    assert response.status_code == 200
    tools = raw_http.jsonrpc_body(response)["result"]["tools"]
    assert {tool["name"] for tool in tools} == {
        "echo_message",
        "add_numbers",
        "show_auth_token",
        "make_authenticated_request",
    }


def test_malformed_json_is_a_parse_error(session: httpx2.Client) -> None:
    response = session.post(
        "/mcp", content=b'{"jsonrpc": "2.0", "id": 1, "method": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700
    still_serving(session)


def test_json_nested_100000_deep_is_a_parse_error(session: httpx2.Client) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = session.post("/mcp", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700
    still_serving(session)


def test_json_that_is_not_jsonrpc_is_refused(session: httpx2.Client) -> None:
    response = session.post("/mcp", json={"hello": "world"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in (-32600, -32602)
    assert "jsonrpc" in error["message"]
    still_serving(session)


def test_wrong_content_type_is_refused(session: httpx2.Client) -> None:
    response = session.post("/mcp", content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code in (400, 415)
    assert "Content-Type" in response.text
    still_serving(session)


def test_unknown_method_is_method_not_found(session: httpx2.Client) -> None:
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "tools/explode"})
    assert response.status_code == 200
    body = raw_http.jsonrpc_body(response)
    assert body["id"] == 7
    assert body["error"]["code"] == -32601
    still_serving(session)


@pytest.mark.parametrize(
    "params",
    [
        "add_numbers",  # params a string
        {"name": ["add_numbers"], "arguments": {}},  # name a list
        {"name": "add_numbers", "arguments": [2, 3]},  # arguments not an object
    ],
)
def test_tool_call_params_of_the_wrong_type_are_invalid_params(session: httpx2.Client, params: object) -> None:
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": params})
    # Params that are not an object fail the transport's own check (400); the rest, the request's (200).
    assert response.status_code in (200, 400)
    assert raw_http.jsonrpc_body(response)["error"]["code"] == -32602
    still_serving(session)


def test_wrong_argument_types_are_a_tool_error(session: httpx2.Client) -> None:
    call = {"name": "add_numbers", "arguments": {"num1": "two", "num2": [3]}}
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": call})
    result = raw_http.jsonrpc_body(response)["result"]
    assert result["isError"] is True
    assert "num1" in result["content"][0]["text"]
    assert "num2" in result["content"][0]["text"]
    still_serving(session)


def test_oversized_body_is_refused_before_parsing(session: httpx2.Client) -> None:
    message = "x" * (5 * 1024 * 1024)  # the SDK's default limit is 4 MiB
    call = {"name": "echo_message", "arguments": {"message": message}}
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": call})
    assert response.status_code == 413
    still_serving(session)


def test_unknown_session_is_not_found(session: httpx2.Client) -> None:
    response = session.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 11, "method": "tools/list"}, headers={"Mcp-Session-Id": "forged"}
    )
    assert response.status_code == 404
    still_serving(session)


def test_foreign_host_header_is_refused(session: httpx2.Client) -> None:
    """DNS-rebinding protection: a page on evil.example resolving to 127.0.0.1 cannot reach us."""
    response = session.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 12, "method": "tools/list"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 421
    still_serving(session)


def test_foreign_origin_header_is_refused(session: httpx2.Client) -> None:
    """A page on evil.example that sends to 127.0.0.1 directly: the Host is right, its Origin is not."""
    response = session.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 13, "method": "tools/list"}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert response.text == "Invalid Origin header"
    still_serving(session)
