"""Session hijacking, run twice: through a proxy that checks every token but binds no session to it, and through
lesson 05's, where a session answers only the token that opened it.

    python -m 05-mcp-proxy.labs.session_hijack

Alice and Mallory both have a token for the team's proxy. Mallory learns Alice's session id: it
travels in a header (`Mcp-Session-Id`) that proxies, load balancers and debugging tools log, and
that ends up in shared HAR files and screenshots. With her own, valid token and Alice's session
id, she opens Alice's stream, the one that carries the server's messages to Alice, and then ends
Alice's session. The lab speaks MCP's Streamable HTTP by hand, so that every header shows. The
backend is lesson 01's server, `calculator`. Everything runs on 127.0.0.1 and stops at the end.
"""

import json
from importlib import import_module
from typing import Any

import httpx2

LESSON = "05-mcp-proxy"
stage = import_module(f"{LESSON}.labs.stage")
TOKENS = {"Alice": "alice-team-token", "Mallory": "mallory-team-token"}  # both in the proxy's authTokens
HANDSHAKE_ERA = "2025-11-25"  # the protocol version that has sessions
TOOL = f"{stage.BACKEND}__add_numbers"


class Member:
    """One of the team, speaking Streamable HTTP to the proxy with their own token."""

    def __init__(self, name: str, http: httpx2.Client, proxy: "stage.Proxy") -> None:
        self.name, self.http, self.proxy = name, http, proxy

    def headers(self, session: str | None, accept: str = "application/json, text/event-stream") -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {TOKENS[self.name]}",
            "Accept": accept,
            "MCP-Protocol-Version": HANDSHAKE_ERA,
        }
        return headers | ({"Mcp-Session-Id": session} if session else {})

    def send(self, method: str, session: str | None, message: dict[str, Any] | None = None) -> httpx2.Response:
        return self.http.request(method, self.proxy.mcp_url, headers=self.headers(session), json=message)


def outcome(response: httpx2.Response) -> str:
    """What a response says, in a few words: the result's text, or the status and the error."""
    try:
        message = json.loads(response.read() or b"{}")
    except ValueError:
        message = {}
    if "result" in message:
        return " ".join(block["text"] for block in message["result"]["content"])
    error = message.get("error", {}).get("message")
    return f"HTTP {response.status_code}" + (f" {error}" if error else "")


def opens_a_session(alice: Member) -> str:
    hello = {"protocolVersion": HANDSHAKE_ERA, "capabilities": {}, "clientInfo": {"name": "alice", "version": "1"}}
    opened = alice.send("POST", None, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
    session = opened.headers["mcp-session-id"]
    alice.send("POST", session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    return session


def adds(alice: Member, session: str) -> str:
    call = {"name": TOOL, "arguments": {"num1": 2, "num2": 3}}
    return outcome(alice.send("POST", session, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}))


def opens_the_stream_of(mallory: Member, session: str) -> str:
    headers = mallory.headers(session, accept="text/event-stream")
    with mallory.http.stream("GET", mallory.proxy.mcp_url, headers=headers) as stream:
        if not stream.is_success:
            return outcome(stream)
        return (
            f"HTTP {stream.status_code} {stream.headers['content-type'].split(';')[0]}, the server's messages to Alice"
        )


def the_team_uses(proxy: "stage.Proxy") -> None:
    with httpx2.Client(timeout=10) as http:
        alice, mallory = Member("Alice", http, proxy), Member("Mallory", http, proxy)
        session = opens_a_session(alice)
        print(f"   Alice opens a session and calls {TOOL}(num1=2, num2=3): {adds(alice, session)}")
        stream = opens_the_stream_of(mallory, session)
        print(f"   Mallory, with her own token and Alice's session id, opens Alice's stream: {stream}")
        print(f"   Mallory ends Alice's session (DELETE): {outcome(mallory.send('DELETE', session))}")
        print(f"   Alice calls {TOOL} again: {adds(alice, session)}")


def main() -> None:
    print("Session hijacking: Mallory has a token of her own for the proxy, and learns Alice's session id.")
    tokens = list(TOKENS.values())
    vulnerable = f"{LESSON}.labs.session_hijack.vulnerable"
    with (
        stage.proxy("vulnerable", None, module=vulnerable, authTokens=tokens) as unbound,
        stage.proxy("lesson", None, authTokens=tokens) as bound,
    ):
        print("1. A proxy that checks each token but binds no session to it (labs/session_hijack/vulnerable.py):")
        the_team_uses(unbound.wait_until_healthy())
        print("2. Lesson 05: a session answers only the token that opened it (server/auth.py, session_owner):")
        the_team_uses(bound.wait_until_healthy())


if __name__ == "__main__":
    main()
