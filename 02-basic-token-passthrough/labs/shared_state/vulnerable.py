"""DELIBERATELY VULNERABLE: lesson 02's server with the caller's token in a module-level variable.

    python -m 02-basic-token-passthrough.labs.shared_state.vulnerable --addr HOST:PORT --upstream-url URL

A module-level variable looks like a fine place for "the current caller's token": a middleware
stores it for each request, the tool reads it. But there is one such variable for the whole
process, and the server serves many requests at once. A request that arrives while another is
in progress overwrites it, and the first request's tool then acts with the second caller's
token. Lesson 02 keeps the token in a context variable instead (server/context.py), of which
every request has a copy of its own. Do not use this one for anything but this lab.
"""

from importlib import import_module
from typing import Annotated

import httpx2
import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LESSON = "02-basic-token-passthrough"
variant = import_module(f"{LESSON}.labs.variant")
app = import_module(f"{LESSON}.server.app")
mask_token = import_module(f"{LESSON}.safe_output").mask_token
bearer_token = import_module(f"{LESSON}.server.gate").bearer_token
split_addr = import_module(f"{LESSON}.addresses").split_addr

caller_token: str | None = None  # the token of "the current request": one variable for every request at once


class BearerToGlobal:
    """Lesson 02's BearerGate, with a module-level variable where the context variable was."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        global caller_token
        if scope["type"] == "http":
            caller_token = bearer_token(Headers(scope=scope).get("authorization"))
        await self.app(scope, receive, send)


def create_server(upstream_url: str) -> MCPServer:
    mcp = MCPServer("basic-token-passthrough, the token in a global", lifespan=app.upstream_client)

    @mcp.tool()
    async def make_authenticated_request(
        message: Annotated[str, Field(description="The message to send as the 'message' query parameter.")],
        ctx: Context,
    ) -> app.UpstreamEcho:
        """Call the upstream echo API with the caller's token and return what it saw."""
        token = caller_token  # the token of whichever request was read last
        http: httpx2.AsyncClient = ctx.request_context.lifespan_context  # lesson 02's one upstream client
        response = await http.get(
            upstream_url, params={"message": message}, headers={"Authorization": f"Bearer {token}"}
        )
        seen = app.UpstreamEcho.model_validate(response.json())
        seen.headers["Authorization"] = f"Bearer {mask_token(token)}"
        return seen

    return mcp


def main() -> None:
    flaw = "lesson 02's server with the caller's token in a module-level variable, shared by every request"
    options = variant.vulnerable_options("shared_state", flaw, "--addr", "--upstream-url")
    host, port = split_addr(options.addr)
    http_app = create_server(options.upstream_url).streamable_http_app()
    http_app.add_middleware(BearerToGlobal)
    http_app.add_route("/healthz", lambda request: PlainTextResponse("ok"))
    # No X-Forwarded-For believed from loopback either, as the lesson's server (server/__main__.py).
    uvicorn.run(http_app, host=host, port=port, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
