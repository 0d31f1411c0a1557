"""Bad input to lesson 05's proxy gets a clear error, and the proxy keeps serving.

The SDK's Streamable HTTP transport validates requests in front of the proxy's own handlers;
these tests pin down what a misbehaving client sees, on the wire, without the SDK client in the
way. test_fuzz.py throws a thousand more at it.
"""

from collections.abc import Iterator

import httpx2
import pytest

from lesson05.tests.support import raw_http

jsonrpc_body = raw_http.jsonrpc_body


@pytest.fixture
def session(aggregate) -> Iterator[httpx2.Client]:
    """An HTTP client inside an initialized MCP session: the Mcp-Session-Id header set on every request."""
    with httpx2.Client(base_url=aggregate.base_url, headers=raw_http.ACCEPT, timeout=10) as http:
        http.headers["Mcp-Session-Id"] = raw_http.open_session(http)
        http.headers["Mcp-Protocol-Version"] = raw_http.PROTOCOL_VERSION
        yield http
        http.delete("/mcp")


def still_serving(http: httpx2.Client) -> None:
    response = http.post("/mcp", json={"jsonrpc": "2.0", "id": 99, "method": "tools/list"})
    assert response.status_code == 200
    assert "basic__add_numbers" in {tool["name"] for tool in jsonrpc_body(response)["result"]["tools"]}


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
    body = jsonrpc_body(response)
    assert body["id"] == 7
    assert body["error"]["code"] == -32601
    still_serving(session)


@pytest.mark.parametrize(
    "params",
    [
        "basic__add_numbers",  # params a string
        {"name": ["basic__add_numbers"], "arguments": {}},  # name a list
        {"name": "basic__add_numbers", "arguments": [2, 3]},  # arguments not an object
        {"cursor": 7},  # a cursor that is not a string
    ],
)
def test_params_of_the_wrong_type_are_invalid_params(session: httpx2.Client, params: object) -> None:
    method = "tools/list" if "cursor" in params else "tools/call"
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 8, "method": method, "params": params})
    # Params that are not an object fail the transport's own check (400); the rest, the request's (200).
    assert response.status_code in (200, 400)
    assert jsonrpc_body(response)["error"]["code"] == -32602
    still_serving(session)


def test_wrong_argument_types_are_the_backends_tool_error(session: httpx2.Client) -> None:
    call = {"name": "basic__add_numbers", "arguments": {"num1": "two", "num2": [3]}}
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": call})
    result = jsonrpc_body(response)["result"]
    assert result["isError"] is True
    assert "num1" in result["content"][0]["text"]
    assert "num2" in result["content"][0]["text"]
    still_serving(session)


def test_oversized_body_is_refused_before_parsing(session: httpx2.Client) -> None:
    message = "x" * (5 * 1024 * 1024)  # the SDK's default limit is 4 MiB
    call = {"name": "basic__echo_message", "arguments": {"message": message}}
    response = session.post("/mcp", json={"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": call})
    assert response.status_code == 413
    still_serving(session)


def test_unknown_session_is_not_found(session: httpx2.Client) -> None:
    response = session.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 10, "method": "tools/list"}, headers={"Mcp-Session-Id": "forged"}
    )
    assert response.status_code == 404
    still_serving(session)


def test_foreign_host_header_is_refused(session: httpx2.Client) -> None:
    """DNS-rebinding protection: a page on evil.example resolving to 127.0.0.1 cannot reach us."""
    response = session.post(
        "/mcp", json={"jsonrpc": "2.0", "id": 11, "method": "tools/list"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 421
    still_serving(session)


def test_no_request_names_a_server_for_the_proxy_to_run(aggregate) -> None:
    # The proxy runs the servers its config names, and no other: no route adds one (the lab stdio_escalation
    # runs a proxy that has one).
    server = {"name": "helper", "server": {"command": "sh", "args": ["-c", "true"]}}
    for path in ("/servers", "/config", "/basic/servers"):
        assert httpx2.post(f"{aggregate.base_url}{path}", json=server, timeout=10).status_code == 404
