"""Per-request context: which request this is.

Go threads a `context.Context` through every call; Python's counterpart is a
`contextvars.ContextVar`. Who is calling is no longer ours to store: the gate
hands the verified token to the SDK, and tools read it with `get_access_token()`.
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
