"""Per-request context: who is calling.

Go threads a `context.Context` through every call; Python's counterpart is a
`contextvars.ContextVar`. Each asyncio task runs in its own copy of the context,
so a value set while handling one request is invisible to every other request
running at the same time. The SDK carries the context of the code that received
a message (an HTTP request, the stdio reader) into the task that runs its tool.

Lesson 02 also gave every message a request id for its log lines. OpenTelemetry
keeps its own context the same way, and its trace and span ids do that job
here (see logs.py), across processes too.
"""

from contextvars import ContextVar

# The caller's bearer token: from the Authorization header on HTTP, from API_KEY on stdio.
auth_token: ContextVar[str | None] = ContextVar("auth_token", default=None)
