"""Bad input to the proxy's HTTP endpoint gets a clear error, and the proxy keeps serving.

The SDK's Streamable HTTP transport does this validation in front of the
proxy's own handlers; these tests pin down what a misbehaving client sees, on
the wire, without the SDK client in the way.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

ACCEPT = {"Accept": "application/json, text/event-stream"}
PROTOCOL_VERSION = "2025-11-25"  # the classic initialize handshake, easy to drive by hand


def jsonrpc_body(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message in a response, whether sent as JSON or as one SSE event."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
        return json.loads(data[0])
    return response.json()


@pytest.fixture
def session(aggregate) -> Iterator[httpx2.Client]:
    """An HTTP client with an initialized MCP session: the Mcp-Session-Id header set on every request."""
    with httpx2.Client(base_url=aggregate.base_url, headers=ACCEPT, timeout=10) as http:
        hello = http.post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "bad-input-test", "version": "0"},
                },
            },
        )
        assert hello.status_code == 200
        http.headers["Mcp-Session-Id"] = hello.headers["mcp-session-id"]
        http.headers["Mcp-Protocol-Version"] = PROTOCOL_VERSION
        assert http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}).status_code == 202
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
