"""Streamable HTTP: the SDK's MCP endpoint inside a FastAPI application, behind the bearer gate.

`mcp.streamable_http_app()` is a complete ASGI app serving `/mcp` (POST to send
messages, GET to open the server-to-client stream, DELETE to end a session).
Mounting it inside FastAPI lets the same process serve ordinary routes such as
`/healthz`. A mounted app's own lifespan never runs, so the host app must start
the SDK's session manager itself.

This lesson puts the gate (gate.py) in front of `/mcp`, and publishes the
Protected Resource Metadata (RFC 9728) that tells a client which authorization
server issues tokens for this server. Both stay public: a client reads the
metadata *before* it has a token.

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
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import ProtectedResourceMetadata

from .app import BASE_SCOPES, scopes_for
from .gate import BearerGate
from .streams import DEFAULT_LIMITS, BoundedStreams, OpenStreams, StreamLimits

METADATA_PATH = "/.well-known/oauth-protected-resource"


def rebinding_protection(resource_url: str) -> TransportSecuritySettings:
    """The Host and Origin headers a request may carry: loopback, and the public name in `resource_url`.

    A web page cannot then reach this server through a hostname of its own that resolves to
    127.0.0.1 (DNS rebinding): its requests get 421/403. The SDK turns this on by itself only
    for a loopback bind; here it is on always, and also admits the URL clients use behind a
    reverse proxy.
    """
    public = urlsplit(resource_url)
    return TransportSecuritySettings(
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", public.netloc],
        allowed_origins=[
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
            f"{public.scheme}://{public.netloc}",
        ],
    )


def metadata_url(resource_url: str) -> str:
    """RFC 9728 §3.1: the well-known segment goes between the host and the resource's path."""
    public = urlsplit(resource_url)
    return f"{public.scheme}://{public.netloc}{METADATA_PATH}{public.path}"


def create_http_app(
    mcp: MCPServer,
    verifier: TokenVerifier,
    resource_url: str,
    issuer: str,
    *,
    stateless: bool = False,
    limits: StreamLimits = DEFAULT_LIMITS,
) -> FastAPI:
    # stateless: the SDK's stateless Streamable HTTP. Handshake-era clients (protocol versions up
    # to 2025-11-25) then get no Mcp-Session-Id, and any replica can answer any of their requests;
    # 2026-07-28 clients need no session either way (docs/production.md says what it gives up).
    mcp_app = mcp.streamable_http_app(transport_security=rebinding_protection(resource_url), stateless_http=stateless)

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

    # Strings, not URL objects: a parsed "http://127.0.0.1:9000" would gain a
    # trailing slash, and a client must find the issuer exactly as the
    # authorization server spells it.
    metadata = ProtectedResourceMetadata(
        resource=resource_url,
        authorization_servers=[issuer],
        scopes_supported=sorted(BASE_SCOPES),  # the base set; journal:write comes by step-up
        resource_name="Workshop journal (lesson 03)",
    ).model_dump(mode="json", exclude_none=True)

    # RFC 9728 §3.1: the path form for the resource's path (and for /mcp, where a reverse proxy
    # with another public path forwards it), and the root form for clients that look there first.
    for path in {f"{METADATA_PATH}{urlsplit(resource_url).path}", f"{METADATA_PATH}/mcp", METADATA_PATH}:
        app.add_api_route(path, lambda: metadata, methods=["GET"])

    gate = BearerGate(
        AuthContextMiddleware(mcp_app),  # the SDK's: puts the verified token where get_access_token() finds it
        verifier,
        resource_metadata_url=metadata_url(resource_url),
        scopes_for=scopes_for,
    )
    # Routes are matched in order and Mount("/") matches every path: mount last.
    app.mount("/", gate)
    # On the app's state, so that the server can end them as it stops (__main__.py).
    app.state.streams = OpenStreams(limits)
    app.add_middleware(BoundedStreams, streams=app.state.streams)
    return app
