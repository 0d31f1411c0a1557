"""Server-to-client streams, bounded: how many are open at once, and how long each stays open.

A stream is a response the server keeps open to send on whenever it likes: the GET on `/mcp`
that a 2025-era session opens, and the answer to a 2026-era `subscriptions/listen`. Each one
holds a connection (a file descriptor), a task and some memory for as long as the client
wants. The SDK allows one GET stream per session, but 10,000 sessions, and 1,024 listen
streams; it never ends a stream itself (an open stream even keeps its session from expiring),
and uvicorn has no limit on connections. So a client that opens stream after stream and holds
them runs a server out of file descriptors, and then no one can connect.

This middleware adds the two limits that are missing: at most `max_open` streams at once (one
more is refused with 503 and Retry-After, while every other request is still served), and at
most `max_seconds` for each, from the moment its request arrives (then the server ends it
cleanly, and a client that still wants one opens another: the SDK's client reopens its GET
stream by itself; a request whose body is still coming gets 408).

A stopping server ends its open streams the same way, at once (`StreamEndingServer`): uvicorn
would wait for them until its grace period is over, and then cut them off.
"""

import math
import socket
from dataclasses import dataclass, field

import anyio
import uvicorn
from mcp.types import INTERNAL_ERROR, INVALID_REQUEST
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class StreamLimits:
    max_open: int = 100
    max_seconds: float = 300.0


DEFAULT_LIMITS = StreamLimits()


@dataclass
class OpenStreams:
    """The streams open now, each with its deadline: counted against `limits`, and ended together when the
    server stops. One per server: the middleware adds and removes them, the server's shutdown ends them."""

    limits: StreamLimits = DEFAULT_LIMITS
    deadlines: set[anyio.CancelScope] = field(default_factory=set)

    def end_all(self) -> None:
        """End every open stream now, cleanly, as if its time were up."""
        for deadline in self.deadlines:
            deadline.cancel()


def is_stream(scope: Scope) -> bool:
    """A request whose answer is a stream: a GET that accepts an event stream, or a `subscriptions/listen`."""
    headers = Headers(scope=scope)
    if scope["method"] == "GET":
        return "text/event-stream" in headers.get("accept", "")
    # 2026-07-28: the method is in a header, which the SDK checks against the body.
    return scope["method"] == "POST" and headers.get("mcp-method") == "subscriptions/listen"


class BoundedStreams:
    """ASGI middleware: at most `limits.max_open` streams at once, each for at most `limits.max_seconds`."""

    def __init__(self, app: ASGIApp, streams: OpenStreams) -> None:
        self.app = app
        self.streams = streams
        self.limits = streams.limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_stream(scope):
            await self.app(scope, receive, send)
            return
        if len(self.streams.deadlines) >= self.limits.max_open:
            await self.refusal()(scope, receive, send)
            return
        deadline = anyio.CancelScope(deadline=anyio.current_time() + self.limits.max_seconds)
        self.streams.deadlines.add(deadline)
        try:
            await self.serve_until(deadline, scope, receive, send)
        finally:
            self.streams.deadlines.discard(deadline)

    async def serve_until(self, deadline: anyio.CancelScope, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app answer, and end its answer at the deadline (`max_seconds` after the request arrived)."""
        started = finished = False

        async def watched_send(message: Message) -> None:
            nonlocal started, finished
            started = True
            finished = message["type"] == "http.response.body" and not message.get("more_body", False)
            await send(message)

        with deadline:
            await self.app(scope, receive, watched_send)
        if not started:  # a request that never even arrived whole (its body still coming)
            await self.timeout()(scope, receive, send)
        elif not finished:  # time is up: end the stream as a finished response, not a broken one
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def refusal(self) -> JSONResponse:
        # 503, as the SDK answers at its session limit: the server is full, the request is fine. Every
        # open stream ends within `max_seconds`, so that is the longest a client has to wait.
        retry_after = {"Retry-After": str(math.ceil(self.limits.max_seconds))}
        return error_response(503, INTERNAL_ERROR, "Too many open streams", retry_after)

    def timeout(self) -> JSONResponse:
        return error_response(408, INVALID_REQUEST, "The request did not arrive in time")


class StreamEndingServer(uvicorn.Server):
    """uvicorn, which ends the open streams as it begins to stop, rather than wait for them."""

    def __init__(self, config: uvicorn.Config, streams: OpenStreams) -> None:
        super().__init__(config)
        self.streams = streams

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Cancelled here, they end once the shutdown first waits: after uvicorn has stopped accepting.
        self.streams.end_all()
        await super().shutdown(sockets)


def error_response(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON-RPC error that answers no request in particular (`id` null), like the SDK's own refusals."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)
