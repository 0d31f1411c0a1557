"""Streamable HTTP: the SDK's MCP endpoint inside a FastAPI application.

`mcp.streamable_http_app()` is a complete ASGI app serving `/mcp` (POST to send
messages, GET to open the server-to-client stream, DELETE to end a session).
Mounting it inside FastAPI lets the same process serve ordinary routes such as
`/healthz`. A mounted app's own lifespan never runs, so the host app must start
the SDK's session manager itself.

Nothing in the SDK or uvicorn bounds how long a server-to-client stream stays
open, and the SDK's counts are far above what one process can hold: see
`BoundedStreams` (streams.py).

Telemetry: each HTTP request joins its caller's trace and is timed (see
`HttpTelemetry`), and the MCP SDK's span for the message it carries is the
server's span for it: MCP carries trace context in the message's `_meta`, the
same on every transport. `/metrics` serves the metrics for Prometheus to scrape.
"""

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import prometheus_client
from fastapi import FastAPI, Response
from mcp.server import MCPServer
from opentelemetry import context, propagate, trace
from opentelemetry.metrics import get_meter
from opentelemetry.util.http import sanitize_method
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .gate import BearerGate
from .streams import DEFAULT_LIMITS, BoundedStreams, OpenStreams, StreamLimits

# The HTTP conventions' advisory buckets, in seconds.
HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
UNTRACED_PATHS = frozenset({"/healthz", "/metrics"})  # probes and scrapes


class HttpTelemetry:
    """ASGI middleware: each HTTP request joins its caller's trace, and is timed.

    What this lesson needs of opentelemetry-instrumentation-asgi, without its span per
    request: that span cost the server about as much time as the rest of its telemetry
    together (see the README), and the MCP SDK's span already is the server's span for
    the message. So the `traceparent` header becomes the current context (log lines of
    the request carry the caller's trace id, and a message without trace context in
    `_meta` still joins the trace), and `http.server.request.duration` counts every
    request, those that never reach the MCP layer too (a refused POST, a stream, a DELETE).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.request_duration = get_meter(__name__).create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=HTTP_DURATION_BUCKETS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        caller = propagate.extract(Headers(scope=scope))
        # Where the MCP middleware finds it, to link the MCP span to the HTTP request (instrumentation.py).
        scope.setdefault("state", {})["http_client_span"] = trace.get_current_span(caller).get_span_context()
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        token = context.attach(caller)
        error_type: str | None = None
        try:
            await self.app(scope, receive, send_noting_status)
        except BaseException as error:  # recorded and raised again; a cancellation too (the client left)
            error_type = type(error).__qualname__
            raise
        finally:
            context.detach(token)
            attributes = {
                # `_OTHER` for a method the HTTP RFCs do not define: a client that makes methods up
                # must not make one metric series for each.
                "http.request.method": sanitize_method(scope["method"]),
                "url.scheme": scope["scheme"],
                "network.protocol.version": scope["http_version"],
            }
            if status is not None:
                attributes["http.response.status_code"] = status
                if error_type is None and status >= 500:
                    error_type = str(status)
            if error_type is not None:
                attributes["error.type"] = error_type
            self.request_duration.record(time.perf_counter() - start, attributes)


def create_http_app(
    mcp: MCPServer,
    host: str = "127.0.0.1",
    flush_telemetry: Callable[[], None] = lambda: None,
    limits: StreamLimits = DEFAULT_LIMITS,
) -> FastAPI:
    # `host` is the address we bind. For a loopback address the SDK turns on
    # DNS-rebinding protection: requests whose Host or Origin header is not
    # localhost get 421/403, so a web page cannot reach this server through a
    # hostname that resolves to 127.0.0.1.
    mcp_app = mcp.streamable_http_app(host=host)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield
        # Here, not after uvicorn.run(): uvicorn re-raises SIGTERM once the app
        # has shut down, and the process ends before any later code runs.
        flush_telemetry()

    # No /docs, /redoc or /openapi.json: an MCP server describes itself through
    # tools/list, and Swagger UI would load its scripts from a CDN. No telemetry of
    # FastAPI's own either: it would add the HTTP span HttpTelemetry leaves out.
    app = FastAPI(
        title=mcp.name,
        version=mcp.version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Readiness probe: answers once the session manager is running."""
        return {"status": "ok", "server": mcp.name}

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format: what the PrometheusMetricReader, if installed, has collected."""
        return Response(prometheus_client.generate_latest(), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    # Routes are matched in order and Mount("/") matches every path: mount last.
    app.mount("/", mcp_app)
    app.add_middleware(BearerGate)
    # On the app's state, so that the server can end them as it stops (__main__.py).
    app.state.streams = OpenStreams(limits)
    app.add_middleware(BoundedStreams, streams=app.state.streams)
    # Added last, so outermost: it times everything below it, refusals included.
    app.add_middleware(HttpTelemetry)
    return app
