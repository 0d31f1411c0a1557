"""DELIBERATELY VULNERABLE: lesson 05's proxy checking every request's token, and binding no session to it.

    python -m 05-mcp-proxy.labs.session_hijack.vulnerable --config CONFIG --addr HOST:PORT

The front door admits a request whose bearer token is on its list; the SDK's session manager finds
the session its `Mcp-Session-Id` names. What ties a session to the caller who opened it is the
front door telling the SDK who that caller is (`scope["user"]`, `session_owner` in server/auth.py):
the SDK then answers anyone else's use of the session id as if the session did not exist. This
variant never tells it, so anyone with a token of their own and someone else's session id is let
into that session. Do not use it for anything but this lab.
"""

from importlib import import_module

auth = import_module("05-mcp-proxy.server.auth")
proxy_command = import_module("05-mcp-proxy.server.__main__")


def main() -> None:
    auth.session_owner = lambda token: None  # the front door names no caller: a session is anyone's
    proxy_command.cli(prog_name=f"python -m {__package__}.vulnerable")


if __name__ == "__main__":
    main()
