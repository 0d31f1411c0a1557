"""Streamable HTTP: the proxy's MCP endpoints inside a FastAPI application.

One SDK server answers two kinds of route, both behind the front door (auth.py):

- `/mcp`: every backend merged, names namespaced `backend__tool`;
- `/<backend>/mcp`: one backend under its own names, as TBXark/mcp-proxy serves them.

They share one session manager, so the FastAPI lifespan enters it once (a
mounted app's own lifespan never runs), then starts the backends and waits for
each one's first connection attempt: when `/healthz` first answers, every
backend is either ready or reported failed. SIGHUP reloads the config.
"""

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from starlette.routing import Route

from .app import create_server
from .auth import FrontDoor, admits, bearer_token
from .proxy import Proxy

logger = logging.getLogger(__name__)


def create_http_app(proxy: Proxy, host: str = "127.0.0.1") -> FastAPI:
    server = create_server(proxy)
    # `host` is the address we bind: for a loopback address the SDK refuses
    # requests whose Host or Origin is not localhost (DNS-rebinding protection).
    sdk_app = server.streamable_http_app(host=host)
    mcp_endpoint = sdk_app.routes[0].endpoint  # the SDK's ASGI handler for its /mcp route

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with server.session_manager.run(), anyio.create_task_group() as group:
            await group.start(proxy.run)
            group.start_soon(reload_on_sighup, proxy)
            yield
            group.cancel_scope.cancel()

    app = FastAPI(title=proxy.config.mcp_proxy.name, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        """Each backend's state. Error details only for a caller the front door would admit."""
        health = proxy.health()
        token = bearer_token(request.headers.get("authorization"))
        if not admits(proxy.config.mcp_proxy.options.auth_tokens, token):
            for backend in health["backends"].values():
                backend.pop("error")
        return health

    # The front door checks every request before the SDK reads it.
    methods = ["GET", "POST", "DELETE"]
    app.router.routes.append(Route("/mcp", FrontDoor(mcp_endpoint, proxy), methods=methods))
    app.router.routes.append(Route("/{backend}/mcp", FrontDoor(mcp_endpoint, proxy), methods=methods))
    return app


async def reload_on_sighup(proxy: Proxy) -> None:
    with anyio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            logger.info("SIGHUP: reloading %s", proxy.config_path)
            await proxy.reload()
