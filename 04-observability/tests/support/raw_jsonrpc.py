"""Speaking MCP over HTTP by hand, without the SDK's client: what a misbehaving client can send.

`open_session` performs the 2025 handshake (`initialize`, then `notifications/initialized`) and
returns the `Mcp-Session-Id` the server assigned; a 2026-07-28 request needs no session, only
`modern_headers` and `MODERN_META`; `jsonrpc_body` reads the one JSON-RPC message of a response,
sent as plain JSON or as a single server-sent event.
"""

import json
from typing import Any

import httpx2

ACCEPT = {"Accept": "application/json, text/event-stream"}
PROTOCOL_VERSION = "2025-11-25"  # the classic initialize handshake, easy to drive by hand
MODERN_PROTOCOL_VERSION = "2026-07-28"  # no handshake: each request says who sends it, in `_meta`
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientInfo": {"name": "raw-jsonrpc-test", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def modern_headers(method: str) -> dict[str, str]:
    """The headers of a 2026-07-28 request: the method travels in a header too."""
    return {**ACCEPT, "Mcp-Protocol-Version": MODERN_PROTOCOL_VERSION, "Mcp-Method": method}


def open_session(http: httpx2.Client, mcp_path: str = "/mcp") -> str:
    """Initialize a session on `http` (a client with the server's base URL); return its id."""
    hello = http.post(
        mcp_path,
        headers=ACCEPT,
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "raw-jsonrpc-test", "version": "0"},
            },
        },
    )
    assert hello.status_code == 200, hello.text
    session_id = hello.headers["mcp-session-id"]
    headers = {**ACCEPT, "Mcp-Session-Id": session_id, "Mcp-Protocol-Version": PROTOCOL_VERSION}
    initialized = http.post(mcp_path, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert initialized.status_code == 202, initialized.text
    return session_id


def jsonrpc_body(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message in a response, whether sent as JSON or as one SSE event."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
        return json.loads(data[0])
    return response.json()
