"""Streamable HTTP: the SDK's MCP endpoint inside a FastAPI application.

`mcp.streamable_http_app()` is a complete ASGI app serving `/mcp` (POST to send
messages, GET to open the server-to-client stream, DELETE to end a session).
Mounting it inside FastAPI lets the same process serve ordinary routes such as
`/healthz`. A mounted app's own lifespan never runs, so the host app must start
the SDK's session manager itself.

Nothing in the SDK or uvicorn bounds how long a server-to-client stream stays
open, and the SDK's counts are far above what one process can hold: see
`BoundedStreams` (streams.py).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server import MCPServer

from .gate import BearerGate
from .streams import DEFAULT_LIMITS, BoundedStreams, OpenStreams, StreamLimits


def create_http_app(mcp: MCPServer, host: str = "127.0.0.1", limits: StreamLimits = DEFAULT_LIMITS) -> FastAPI:
    # `host` is the address we bind. For a loopback address the SDK turns on
    # DNS-rebinding protection: requests whose Host or Origin header is not
    # localhost get 421/403, so a web page cannot reach this server through a
    # hostname that resolves to 127.0.0.1.
    mcp_app = mcp.streamable_http_app(host=host)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    # No /docs, /redoc or /openapi.json: an MCP server describes itself through
    # tools/list, and Swagger UI would load its scripts from a CDN.
    app = FastAPI(
        title=mcp.name, version=mcp.version, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Readiness probe: answers once the session manager is running."""
        return {"status": "ok", "server": mcp.name}

    # Routes are matched in order and Mount("/") matches every path: mount last.
    app.mount("/", mcp_app)
    app.add_middleware(BearerGate)
    # On the app's state, so that the server can end them as it stops (__main__.py).
    app.state.streams = OpenStreams(limits)
    app.add_middleware(BoundedStreams, streams=app.state.streams)
    return app
