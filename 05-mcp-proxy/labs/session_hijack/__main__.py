"""Session hijacking, run twice: through a proxy that checks every token but binds nothing to it, and through
lesson 05's, where a session answers only the token that opened it, and a backend's messages reach only the
caller whose call they belong to.

    python -m 05-mcp-proxy.labs.session_hijack

Alice and Mallory both have a token for the team's proxy. Mallory learns Alice's session id: it
travels in a header (`Mcp-Session-Id`) that proxies, load balancers and debugging tools log, and
that ends up in shared HAR files and screenshots. With her own, valid token and Alice's session
id she tries both eras of the protocol:

- handshake era (2025-11-25), where the id names a session: she opens Alice's stream, the one that
  carries the server's messages to Alice, and then ends Alice's session;
- 2026-07-28, which has no sessions: she makes a call of her own that carries Alice's id anyway,
  while Alice's call runs on the same backend, and reads what the backend says about Alice's call.

The lab speaks MCP's Streamable HTTP by hand, so that every header shows. The backends are lesson
01's server, `calculator`, and the team's backup server (backups.py), `backups`. Everything runs on
127.0.0.1 and stops at the end.
"""

import json
import re
from collections.abc import Iterable, Iterator
from importlib import import_module
from typing import Any

import httpx2

LESSON = "05-mcp-proxy"
stage = import_module(f"{LESSON}.labs.stage")
TOKENS = {"Alice": "alice-team-token", "Mallory": "mallory-team-token"}  # both in the proxy's authTokens
HANDSHAKE_ERA = "2025-11-25"  # the protocol version that has sessions
SESSIONLESS_ERA = "2026-07-28"
TOOL = f"{stage.BACKEND}__add_numbers"
BACKUPS = {"backups": f"{LESSON}.labs.session_hijack.backups"}


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

    def calls(self, session: str, tool: str, arguments: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A call in a handshake-era session: the messages its answer carries, one by one as they arrive."""
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        with self.http.stream("POST", self.proxy.mcp_url, headers=self.headers(session), json=call) as answer:
            yield from messages(answer)

    def calls_without_a_session(self, tool: str, carrying: str) -> Iterator[dict[str, Any]]:
        """A 2026-07-28 call, with `Mcp-Session-Id: <carrying>` all the same; asks for progress and log lines."""
        meta = {
            "io.modelcontextprotocol/protocolVersion": SESSIONLESS_ERA,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/logLevel": "info",
            "progressToken": "mallory",
        }
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "_meta": meta}}
        headers = {
            **self.headers(carrying),
            "MCP-Protocol-Version": SESSIONLESS_ERA,
            "Mcp-Method": "tools/call",
            "Mcp-Name": tool,
        }
        with self.http.stream("POST", self.proxy.mcp_url, headers=headers, json=call) as answer:
            yield from messages(answer)


def messages(answer: httpx2.Response) -> Iterator[dict[str, Any]]:
    """The JSON-RPC messages of an answer, whether one JSON body or an event stream, as they arrive."""
    if not answer.headers["content-type"].startswith("text/event-stream"):
        yield json.loads(answer.read())
        return
    data: list[str] = []
    for line in answer.iter_lines():
        if line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif not line and data:
            yield json.loads("\n".join(data))
            data = []


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
    answer = outcome(alice.send("POST", session, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}))
    return f"her session is gone ({answer})" if answer.startswith("HTTP 404") else answer


def opens_the_stream_of(mallory: Member, session: str) -> str:
    headers = mallory.headers(session, accept="text/event-stream")
    with mallory.http.stream("GET", mallory.proxy.mcp_url, headers=headers) as stream:
        if not stream.is_success:
            return outcome(stream)
        return (
            f"HTTP {stream.status_code} {stream.headers['content-type'].split(';')[0]}, the server's messages to Alice"
        )


def in_the_handshake_era(alice: Member, mallory: Member) -> list[str]:
    """Mallory uses Alice's session; what she got of it."""
    session = opens_a_session(alice)
    print(f"   Alice opens a session and calls {TOOL}(num1=2, num2=3): {adds(alice, session)}")
    stream = opens_the_stream_of(mallory, session)
    print(f"   Mallory, with her own token and Alice's session id, opens Alice's stream: {stream}")
    ended = outcome(mallory.send("DELETE", session))
    print(f"   Mallory ends Alice's session (DELETE): {ended}")
    print(f"   Alice calls {TOOL} again: {adds(alice, session)}")
    return [got for got, done in [("opened Alice's stream", stream), ("ended her session", ended)] if "200" in done]


def log_lines(carried: Iterable[dict[str, Any]]) -> str:
    lines = [repr(message["params"]["data"]) for message in carried if message.get("method") == "notifications/message"]
    return ", ".join(lines) or "none"


def kept_by(proxy: "stage.Proxy") -> str:
    """The backups server's log lines the proxy wrote to its own log, for want of a client to pass them to."""
    log = (proxy.folder / "proxy.log").read_text()
    return ", ".join(repr(line) for line in re.findall(r"log from backups \[info\]: (.*)", log)) or "none"


def in_the_2026_era(alice: Member, mallory: Member) -> list[str]:
    session = opens_a_session(alice)
    alices_call = alice.calls(session, "backups__backup", {"owner": "alice"})
    question = next(alices_call)  # the server asks her first, on her call's stream
    asked = question["params"]["message"]
    print(f"   Alice, in a new session, calls backups__backup(owner=alice); the server asks her: {asked!r}")
    mallorys_call = mallory.calls_without_a_session("backups__watch", carrying=session)
    running = next(mallorys_call)["params"]["message"]  # her call runs on the backend, beside Alice's
    print(f"   Mallory sends a {SESSIONLESS_ERA} call, backups__watch, carrying Alice's session id: {running}")
    answer = {"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept", "content": {"confirm": True}}}
    alice.send("POST", session, answer)
    *carried, result = alices_call
    print(f"   Alice confirms, and her call answers: {result['result']['content'][0]['text']}")
    print(f"   Log lines about Alice's backup, on Alice's call: {log_lines(carried)}")
    read = log_lines(mallorys_call)
    print(f"   Log lines about Alice's backup, on Mallory's call: {read}")
    print(f"   Log lines about Alice's backup, in the proxy's own log: {kept_by(mallory.proxy)}")
    return ["read the log lines of Alice's backup"] if read != "none" else []


def the_team_uses(proxy: "stage.Proxy") -> str | None:
    """Both eras; what Mallory got of Alice's, if anything."""
    with httpx2.Client(timeout=10) as http:
        alice, mallory = Member("Alice", http, proxy), Member("Mallory", http, proxy)
        got = in_the_handshake_era(alice, mallory) + in_the_2026_era(alice, mallory)
    if not got:
        return None
    return f"Mallory {', '.join(got[:-1])} and {got[-1]}" if got[:-1] else f"Mallory {got[0]}"


def main() -> None:
    print(
        "Session hijacking: Mallory has a token of her own for the proxy, and learns Alice's session id.",
        flush=True,  # at once: the proxies take a second to start
    )
    tokens = list(TOKENS.values())
    vulnerable = f"{LESSON}.labs.session_hijack.vulnerable"
    with (
        stage.proxy("vulnerable", None, module=vulnerable, others=BACKUPS, authTokens=tokens) as unbound,
        stage.proxy("lesson", None, others=BACKUPS, authTokens=tokens) as bound,
    ):
        print("1. A proxy that checks each token but binds nothing to it (labs/session_hijack/vulnerable.py):")
        stage.verdict(the_team_uses(unbound.wait_until_healthy()))
        print("2. Lesson 05: a session, and a backend's messages, only for their caller (server/gate.py, relay.py):")
        stage.verdict(
            the_team_uses(bound.wait_until_healthy()),
            "sessions and a backend's messages bound to their caller (server/gate.py, relay.py)",
            "Alice's session answers Mallory as if it did not exist (404), and none of Alice's log lines reach her",
        )
        stage.stop(unbound, bound)


if __name__ == "__main__":
    main()
