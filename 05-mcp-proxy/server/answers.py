"""A stream only when there is something to stream: a call's lone result goes out as one JSON body.

A handshake-era session is answered one way for its whole life, chosen before any
call runs: the SDK opens an SSE stream for every request (so that progress, log
lines and a backend's questions can reach the caller during the call), or, with
`jsonResponse`, one JSON body for every request (and nothing during a call).
Most calls send nothing during the call: their stream carries one event, the
result, and the client pays for reading a stream it did not need.

The specification leaves the choice to the server, request by request ("either
`text/event-stream` ... or `application/json`"; the client must accept both), so
this middleware makes it as late as possible, when the answer's first event is
ready: if that event is the call's result, the stream would carry nothing else
(the SDK ends it after the result), and the result goes out as one JSON body
instead. If it is anything else (progress, a log line, a question, a keep-alive
ping), the answer stays the stream it was. The SDK's own 2026-07-28 transport
decides the same way, and so does mcp-go's server (the Go workshop's SDK).

The SDK still runs its stream machinery for each call (a task group, a writer,
a ping timer): only `jsonResponse` skips that. What this saves is the client's
work and bytes on the wire: see the README for how much.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Headers that describe an event stream: a JSON body replaces them with its own type and length.
STREAM_HEADERS = {b"content-type", b"cache-control", b"connection", b"x-accel-buffering", b"transfer-encoding"}


def lone_result(chunk: bytes) -> bytes | None:
    """The JSON-RPC response in `chunk`, if the chunk is exactly one SSE `message` event carrying one.

    Anything else (an `id:` field for resumption, a comment, a notification or a
    request of the server's) returns None, and the stream is left alone.
    """
    lines = chunk.splitlines()
    if not chunk.endswith((b"\n\n", b"\r\n\r\n")) or lines[0] != b"event: message":
        return None
    fields = [line.partition(b": ") for line in lines[1:] if line]
    if not fields or any(name != b"data" for name, _, _ in fields):
        return None
    payload = b"\n".join(value for _, _, value in fields)
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("id") is None:
        return None
    return payload if "result" in message or "error" in message else None


class LoneResultAsJson:
    """ASGI middleware around the SDK's MCP endpoint: holds an event stream's start until its first event
    says whether a stream is needed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the event stream's start, not sent yet
        decided: str | None = None  # "stream" or "json"

        async def deciding_send(message: Message) -> None:
            nonlocal held, decided
            if decided == "stream":
                await send(message)
            elif decided == "json":
                return  # the rest of the stream the SDK wrote: only its end, after the result
            elif message["type"] == "http.response.start":
                if dict(message["headers"]).get(b"content-type", b"").startswith(b"text/event-stream"):
                    held = message
                else:  # JSON already (an error, a notification's 202, `jsonResponse`): as it is
                    decided = "stream"
                    await send(message)
            elif held is not None and (result := lone_result(message.get("body", b""))) is not None:
                decided = "json"
                headers = [(name, value) for name, value in held["headers"] if name.lower() not in STREAM_HEADERS]
                headers += [(b"content-type", b"application/json"), (b"content-length", str(len(result)).encode())]
                await send({"type": "http.response.start", "status": held["status"], "headers": headers})
                await send({"type": "http.response.body", "body": result})
            else:
                decided = "stream"
                if held is not None:
                    await send(held)
                await send(message)

        await self.app(scope, receive, deciding_send)
