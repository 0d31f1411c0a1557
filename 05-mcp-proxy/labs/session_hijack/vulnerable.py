"""DELIBERATELY VULNERABLE: lesson 05's proxy checking every request's token, and binding nothing to it.

    python -m 05-mcp-proxy.labs.session_hijack.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

The gate admits a request whose bearer token is on its list. Two things then tie what
happens next to the caller who holds that token, and this variant has neither:

- a handshake-era session: the SDK's session manager finds the session its `Mcp-Session-Id`
  names, and serves it only to the caller who opened it because the gate tells the SDK who
  is asking (`scope["user"]`, `session_owner` in server/gate.py). This variant never tells it,
  so anyone with a token of their own and someone else's session id is let into that session;
- a backend's messages (its log lines, its questions): the relay sends them to the client whose
  call is in flight, and this variant takes a request's `Mcp-Session-Id` for who that client is,
  as lesson 05 once did (`FrontCall.client` in server/relay.py). A 2026-07-28 request has no
  session, so nothing checks the id it carries: anyone can send someone else's.

It starts only as its lab starts it (labs/variant.py). Do not use it for anything but this lab.
"""

from importlib import import_module

variant = import_module("05-mcp-proxy.labs.variant")


def weaken() -> None:
    gate = import_module("05-mcp-proxy.server.gate")
    relay = import_module("05-mcp-proxy.server.relay")
    gate.session_owner = lambda token: None  # the gate names no caller: a session is anyone's
    # Whom a backend's message is for: whatever session id the request says it belongs to.
    relay.FrontCall.client = property(lambda call: call.ctx.request.headers.get("mcp-session-id") or id(call))


def main() -> None:
    weakness = "it binds no session to its caller, and sends a backend's messages where a request's Mcp-Session-Id says"
    variant.run("session_hijack", weakness, weaken)


if __name__ == "__main__":
    main()
