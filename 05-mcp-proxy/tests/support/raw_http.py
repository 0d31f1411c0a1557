"""MCP's Streamable HTTP spoken by hand, to send what the SDK client never would.

A test of bad input, or of the gate, needs the wire without a client in the way: these
helpers build the classic `initialize` request, open a session with it, write a 2026-07-28
request (a `subscriptions/listen`, say), and read the JSON-RPC answer, whether it came back as
plain JSON or as server-sent events.
"""

import json
from typing import Any

import httpx2

ACCEPT = {"Accept": "application/json, text/event-stream"}
PROTOCOL_VERSION = "2025-11-25"  # the classic handshake: initialize, then a session id on every request
MODERN = "2026-07-28"  # the sessionless protocol: each request carries its version in `_meta` and headers
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "raw-http-test", "version": "0"},
    },
}


def open_session(http: httpx2.Client, path: str = "/mcp") -> str:
    """Initialize an MCP session over `http` and return its id (the `Mcp-Session-Id` header to send)."""
    hello = http.post(path, headers=ACCEPT, json=INITIALIZE)
    assert hello.status_code == 200, hello.text
    session_id = hello.headers["mcp-session-id"]
    initialized = http.post(
        path,
        headers={**ACCEPT, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": PROTOCOL_VERSION},
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
    )
    assert initialized.status_code == 202, initialized.text
    return session_id


def jsonrpc_messages(response: httpx2.Response) -> list[dict[str, Any]]:
    """Every JSON-RPC message in a response, whether sent as JSON or as SSE events."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
        return [json.loads(message) for message in data]
    return [response.json()]


def jsonrpc_body(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message in a response, whether sent as JSON or as one SSE event."""
    return jsonrpc_messages(response)[0]


def modern_request(method: str, params: dict[str, Any], log_level: str | None = None) -> dict[str, Any]:
    """The keyword arguments of `http.post("/mcp", ...)` for a 2026-07-28 request: no session, the protocol
    version and the client's capabilities in every request's `_meta` (and its opt-in to log lines), the method
    and the name it acts on in headers too."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    if log_level:
        meta["io.modelcontextprotocol/logLevel"] = log_level
    headers = {**ACCEPT, "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if "name" in params:
        headers["Mcp-Name"] = params["name"]
    return {
        "headers": headers,
        "json": {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}},
    }


def listen_request() -> dict[str, Any]:
    """The keyword arguments of `http.stream("POST", "/mcp", ...)` for a 2026-07-28 `subscriptions/listen`,
    whose answer is a stream of notifications that stays open."""
    return modern_request("subscriptions/listen", {"notifications": {"toolsListChanged": True}})
