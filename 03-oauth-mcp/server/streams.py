"""Hardening, to skip on a first read: server-to-client streams, bounded in number and in time.

A stream is a response the server keeps open to send on whenever it likes: the GET on `/mcp` of a
2025-era session, or the answer to a 2026-era `subscriptions/listen`. Each holds a connection, a
task and some memory for as long as the client wants, and neither the SDK nor uvicorn bounds how
many or for how long: a client that opens stream after stream runs the server out of file
descriptors, and then no one can connect.

`BoundedStreams` allows `max_open` streams at once (one more gets 503 and Retry-After) and ends
each one after `max_seconds`, cleanly (a client that still wants one opens another). As the
server stops, `StreamEndingServer` ends them all at once, where uvicorn would wait for them.
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
    """The streams open now, one deadline each: counted against `limits`, ended together as the server stops."""

    limits: StreamLimits = DEFAULT_LIMITS
    deadlines: set[anyio.CancelScope] = field(default_factory=set)

    def end_all(self) -> None:
        for deadline in self.deadlines:
            deadline.cancel()


def is_stream(scope: Scope) -> bool:
    """A GET that accepts an event stream, or a `subscriptions/listen` (2026-07-28 names it in a header)."""
    headers = Headers(scope=scope)
    if scope["method"] == "GET":
        return "text/event-stream" in headers.get("accept", "")
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
            # 503, as the SDK answers at its session limit; every open stream ends within max_seconds.
            retry_after = {"Retry-After": str(math.ceil(self.limits.max_seconds))}
            await error_response(503, INTERNAL_ERROR, "Too many open streams", retry_after)(scope, receive, send)
            return
        started = finished = False

        async def watched_send(message: Message) -> None:
            nonlocal started, finished
            started = True
            finished = message["type"] == "http.response.body" and not message.get("more_body", False)
            await send(message)

        deadline = anyio.CancelScope(deadline=anyio.current_time() + self.limits.max_seconds)
        self.streams.deadlines.add(deadline)
        try:
            with deadline:
                await self.app(scope, receive, watched_send)
        finally:
            self.streams.deadlines.discard(deadline)
        if not started:  # time was up before the request's body had even arrived
            await error_response(408, INVALID_REQUEST, "The request did not arrive in time")(scope, receive, send)
        elif not finished:  # time is up: end the stream as a finished response, not a broken one
            await send({"type": "http.response.body", "body": b"", "more_body": False})


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
