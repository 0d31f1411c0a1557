"""Streamable HTTP: the proxy's MCP endpoints inside a FastAPI application.

One SDK server answers two kinds of route, both behind the gate (gate.py):

- `/mcp`: every backend merged, names namespaced `backend__tool`;
- `/<backend>/mcp`: one backend under its own names, as TBXark/mcp-proxy serves them.

Lesson 01 mounted the SDK's whole Starlette app; here the SDK's session manager
is made directly, so its handler can sit behind the gate, and the FastAPI
lifespan runs it. The lifespan then starts the backends and waits for each one's
first connection attempt: when `/healthz` first answers, every backend is either
ready or reported failed. SIGHUP reloads the config.

A call's answer is the SSE stream that carries its progress, log lines and a
backend's questions to the caller, or one JSON body when it carries only the
result (answers.py). `jsonResponse` always answers with one JSON body (settings.py
says what that costs). Streams a client holds open are bounded as in lesson 01 (streams.py).
"""

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI, Request
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from ..addresses import is_loopback
from .answers import LoneResultAsJson
from .app import create_server
from .gate import BearerGate, admitted_backends, bearer_token
from .proxy import Proxy
from .streams import DEFAULT_LIMITS, BoundedStreams, OpenStreams, StreamLimits

logger = logging.getLogger(__name__)


def dns_rebinding_protection(host: str, base_url: str | None) -> TransportSecuritySettings | None:
    """Which Host and Origin headers the MCP endpoints accept.

    The SDK's rule: bound to a loopback address, only the loopback names, so a web
    page on a name that resolves to 127.0.0.1 cannot reach the proxy; bound to any
    other address, any name (it cannot know the real one). `baseURL` says which
    name clients really use: it is accepted too, and bound elsewhere, only it.
    """
    if not is_loopback(host) and base_url is None:
        return None
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if base_url is not None:
        parts = urlsplit(base_url)
        hosts.append(parts.netloc)  # what a client sends as Host: the port only if it is not the scheme's default
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def create_http_app(proxy: Proxy, host: str = "127.0.0.1", limits: StreamLimits = DEFAULT_LIMITS) -> FastAPI:
    server = create_server(proxy)
    # `host` is the address we bind: see dns_rebinding_protection.
    sessions = StreamableHTTPSessionManager(
        server,
        json_response=proxy.settings.json_response,
        security_settings=dns_rebinding_protection(host, proxy.settings.base_url),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with sessions.run(), anyio.create_task_group() as group:
            await group.start(proxy.run)
            group.start_soon(reload_on_sighup, proxy)
            yield
            group.cancel_scope.cancel()

    app = FastAPI(title=proxy.settings.name, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        """Each backend's state; its error details, and the tools it has held, only for a caller the gate
        admits to that backend.

        An error can name a host, a path or a variable of the proxy's: no business of anyone else,
        not even of a caller the proxy admits to other backends."""
        health = proxy.health()
        admitted = admitted_backends(proxy.settings, bearer_token(request.headers.get("authorization")))
        for name, backend in health["backends"].items():
            if name not in admitted:
                backend.pop("error")
                backend.pop("held")
        return health

    # The gate checks every request before the SDK reads it; a lone result leaves as JSON (answers.py).
    endpoint = BearerGate(LoneResultAsJson(sessions.handle_request), proxy)
    methods = ["GET", "POST", "DELETE"]
    app.router.routes.append(Route("/mcp", endpoint, methods=methods))
    app.router.routes.append(Route("/{backend}/mcp", endpoint, methods=methods))
    # Whatever the path: a stream on /mcp and one on /<backend>/mcp count alike.
    # On the app's state, so that the server can end them as it stops (__main__.py).
    app.state.streams = OpenStreams(limits)
    app.add_middleware(BoundedStreams, streams=app.state.streams)
    return app


async def reload_on_sighup(proxy: Proxy) -> None:
    with anyio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            logger.info("SIGHUP: reloading %s", proxy.config_path)
            await proxy.reload()
