"""Streamable HTTP: the SDK's MCP endpoint inside a FastAPI application.

`mcp.streamable_http_app()` is a complete ASGI app serving `/mcp` (POST to send
messages, GET to open the server-to-client stream, DELETE to end a session).
Mounting it inside FastAPI lets the same process serve ordinary routes such as
`/healthz`. A mounted app's own lifespan never runs, so the host app must start
the SDK's session manager itself.

The gate (gate.py) stands in front of `/mcp`; the Protected Resource Metadata
(RFC 9728), which names the authorization server, is public.

Nothing in the SDK or uvicorn bounds how long a server-to-client stream stays
open, and the SDK's counts are far above what one process can hold: see
`BoundedStreams` (streams.py).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.provider import TokenVerifier
from mcp.shared.auth import ProtectedResourceMetadata

from ..server_extras.dns_rebinding import dns_rebinding_protection
from .gate import BearerGate
from .scopes import BASE_SCOPES
from .streams import DEFAULT_LIMITS, BoundedStreams, OpenStreams, StreamLimits

METADATA_PATH = "/.well-known/oauth-protected-resource"


def create_http_app(
    mcp: MCPServer,
    verifier: TokenVerifier,
    resource_url: str,
    issuer: str,
    limits: StreamLimits = DEFAULT_LIMITS,
    stateless: bool = False,  # no MCP sessions, for replicas (../production/)
) -> FastAPI:
    # DNS-rebinding protection for every bind, the public name admitted too (../server_extras/dns_rebinding.py).
    security = dns_rebinding_protection(resource_url)
    mcp_app = mcp.streamable_http_app(transport_security=security, stateless_http=stateless)

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

    public = urlsplit(resource_url)
    # Strings, not URL objects: a parsed "http://127.0.0.1:9000" would gain a trailing slash,
    # and a client must find the issuer exactly as the authorization server spells it.
    metadata = ProtectedResourceMetadata(
        resource=resource_url,
        authorization_servers=[issuer],
        scopes_supported=sorted(BASE_SCOPES),  # the base set; journal:write comes by step-up
        resource_name="Workshop journal (lesson 03)",
    ).model_dump(mode="json", exclude_none=True)
    # RFC 9728 §3.1: the well-known part goes between the host and the resource's path (and /mcp, where a
    # proxy with another public path forwards it); and the root form, for clients that look there first.
    for path in {f"{METADATA_PATH}{public.path}", f"{METADATA_PATH}/mcp", METADATA_PATH}:
        app.add_api_route(path, lambda: metadata, methods=["GET"])

    metadata_url = f"{public.scheme}://{public.netloc}{METADATA_PATH}{public.path}"
    # Routes are matched in order and Mount("/") matches every path: mount last.
    # The gate, then the SDK's AuthContextMiddleware: it puts the verified token where get_access_token() finds it.
    app.mount("/", BearerGate(AuthContextMiddleware(mcp_app), verifier, metadata_url))
    # On the app's state, so that the server can end them as it stops (__main__.py).
    app.state.streams = OpenStreams(limits)
    app.add_middleware(BoundedStreams, streams=app.state.streams)
    return app
