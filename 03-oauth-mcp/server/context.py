"""Per-request context: who is calling, and which request this is.

Go threads a `context.Context` through every call; Python's counterpart is a
`contextvars.ContextVar`. Each asyncio task runs in its own copy of the context,
so a value set while handling one request is invisible to every other request
running at the same time. The SDK carries the context of the code that received
a message (an HTTP request, the stdio reader) into the task that runs its tool.
Who is calling, the SDK keeps now: the tools ask `get_access_token()` (app.py).
"""

import uuid
from contextvars import ContextVar

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult

# A fresh id for every inbound message, stamped on each log line written while handling it.
request_id: ContextVar[str] = ContextVar("request_id", default="-")


async def assign_request_id(ctx: ServerRequestContext, call_next: CallNext) -> HandlerResult:
    """MCP middleware: runs around every message on both transports, before its handler."""
    reset = request_id.set(str(uuid.uuid4()))
    try:
        return await call_next(ctx)
    finally:
        request_id.reset(reset)
