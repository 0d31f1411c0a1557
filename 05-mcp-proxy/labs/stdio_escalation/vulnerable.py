"""DELIBERATELY VULNERABLE: lesson 05's proxy starting the servers callers post, and any config's, whoever wrote it.

    python -m 05-mcp-proxy.labs.stdio_escalation.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

A proxy runs each stdio server its config names, as the user it runs as. This variant lets two
kinds of strangers name one:

- a caller: `POST /servers {"name": ..., "server": {"command": ..., "args": [...]}}` adds a server
  to the config and reloads it, as proxies do that let a client add servers at run time. It asks
  for the proxy's token, but a token can be stolen: the MCP security best practices' proxy
  scenario starts with a script that steals it;
- anyone who can write the config: it is read as it is, whoever owns it, whatever its mode
  (lesson 05 checks both, server/permissions.py).

It starts only as its lab starts it (labs/variant.py). Do not use it for anything but this lab.
"""

import json
from importlib import import_module
from typing import Any

variant = import_module("05-mcp-proxy.labs.variant")


def weaken() -> None:
    config = import_module("05-mcp-proxy.server.config")
    http = import_module("05-mcp-proxy.server.http")
    gate = import_module("05-mcp-proxy.server.gate")
    from fastapi import FastAPI, HTTPException, Request

    config.writable_by_others = lambda path, status: None  # any config, whoever can write it
    create_http_app = http.create_http_app

    def with_a_servers_endpoint(proxy: Any, **kwargs: Any) -> FastAPI:  # proxy: lesson 05's Proxy (proxy.py)
        app = create_http_app(proxy, **kwargs)

        @app.post("/servers")
        async def add_server(request: Request) -> dict[str, str]:
            """Add the server the caller describes to the config, and start it: what a token lets a caller do."""
            token = gate.bearer_token(request.headers.get("authorization"))
            if not gate.admits(proxy.settings.proxy_tokens, token):
                raise HTTPException(401, "missing or unknown bearer token")
            added = await request.json()
            written = json.loads(proxy.config_path.read_text())
            written["mcpServers"][added["name"]] = added["server"]
            proxy.config_path.write_text(json.dumps(written))
            await proxy.reload()
            return {"added": added["name"]}

        return app

    http.create_http_app = with_a_servers_endpoint


def main() -> None:
    weakness = "it starts any stdio server a caller posts to /servers, and reads its config whoever can write it"
    variant.run("stdio_escalation", weakness, weaken)


if __name__ == "__main__":
    main()
