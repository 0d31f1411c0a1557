"""How the gate reads a request's JSON-RPC body before the SDK does.

Skip on a first read. The gate (server/gate.py) must know which tool a request calls, to ask for
that tool's scopes, so it reads the body first; then the SDK must still get it. ASGI hands a body
over once, in chunks, so the gate collects it (`read_body`), within the SDK's own size limit rather
than without end, and hands the SDK a `receive` that gives the same body again (`replay`). What the
body says is read by `json_rpc_message`, which never fails: malformed input is the SDK's to answer.
"""

import json
from typing import Any

from starlette.types import Message, Receive

MAX_BODY_BYTES = 4 * 1024 * 1024  # the SDK's own limit for a JSON-RPC message


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None past MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def json_rpc_message(body: bytes) -> dict[str, Any]:
    """The JSON-RPC message, or {} when it is not one (a batch, say): the SDK answers malformed input itself."""
    try:
        message = json.loads(body) if body else {}
    except (ValueError, RecursionError):  # RecursionError: arrays nested 100,000 deep
        return {}
    return message if isinstance(message, dict) else {}


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that first hands the app the body the gate already read, then the real events
    (a streamed response listens on it for the client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
