"""The Go lesson's tool-handler middleware, rebuilt on the MCP semantic conventions.

The SDK already wraps every inbound message in a SERVER span, `tools/call <tool>`,
with `mcp.method.name`, `gen_ai.tool.name`, `jsonrpc.request.id`, and on failure
`error.type` and an ERROR status (`tool_error` for an `isError` result). This
middleware runs inside that span and adds what only the application knows: on
the span, the transport, the session, the caller's address and a link to the
HTTP request; and the two duration histograms the conventions define.

Go's `mcp.tool`, `mcp.params`, `mcp.status`, `mcp.error` and `mcp.duration_ms`
become `gen_ai.tool.name`, `gen_ai.tool.call.arguments` (opt-in: arguments can
be sensitive), the span status, `error.type` and `mcp.server.operation.duration`.
"""

import json
import os
import time
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult
from opentelemetry import metrics, trace
from pydantic import ValidationError

# The conventions' advisory buckets, in seconds: up to 5 minutes, because a
# call driven by a model can be that slow.
DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]

# Tool arguments can hold anything a model or user typed: recorded only when asked for.
CAPTURE_ARGUMENTS = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() == "true"

meter = metrics.get_meter(__name__)
operation_duration = meter.create_histogram(
    "mcp.server.operation.duration",
    unit="s",
    description="Time from receiving an MCP request or notification to sending its response.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)
session_duration = meter.create_histogram(
    "mcp.server.session.duration",
    unit="s",
    description="Lifetime of an MCP session, from initialize until its connection closes.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)


async def record_operation(ctx: ServerRequestContext, call_next: CallNext) -> HandlerResult:
    """MCP middleware: attributes on the SDK's span, and the operation's duration."""
    span = trace.get_current_span()  # the SDK's SERVER span for this message: it runs outside us
    attributes = operation_attributes(ctx)
    span.set_attributes({key: value for key, value in attributes.items() if key.startswith("network.")})
    span.set_attributes(caller_attributes(ctx))
    link_http_span(ctx, span)
    if CAPTURE_ARGUMENTS and ctx.method == "tools/call" and ctx.params:
        span.set_attribute("gen_ai.tool.call.arguments", json.dumps(ctx.params.get("arguments") or {}))
    if ctx.method == "initialize":
        time_session(ctx, attributes)

    start = time.perf_counter()
    error_type: str | None = None
    try:
        result = await call_next(ctx)
    # The same classification as the SDK's span, so the metric and the span agree.
    except MCPError as error:
        error_type = str(error.error.code)
        raise
    except ValidationError:
        error_type = str(INVALID_PARAMS)
        raise
    except Exception as error:
        error_type = type(error).__qualname__
        raise
    else:
        if ctx.method == "tools/call" and is_tool_error(result):
            error_type = "tool_error"
        return result
    finally:
        if error_type:
            attributes["error.type"] = error_type
        operation_duration.record(time.perf_counter() - start, attributes)


def operation_attributes(ctx: ServerRequestContext) -> dict[str, Any]:
    """What the span and the histogram share. Never the session id: one label value per session would
    make every metric series unbounded."""
    attributes: dict[str, Any] = {"mcp.method.name": ctx.method, "mcp.protocol.version": ctx.protocol_version}
    name = ctx.params.get("name") if ctx.params else None
    if ctx.method == "tools/call" and isinstance(name, str):
        attributes |= {"gen_ai.tool.name": name, "gen_ai.operation.name": "execute_tool"}
    elif ctx.method == "prompts/get" and isinstance(name, str):
        attributes["gen_ai.prompt.name"] = name
    if ctx.request is None:  # stdio: no HTTP request behind the message
        attributes["network.transport"] = "pipe"
    else:
        http_version = ctx.request.scope.get("http_version", "1.1")
        attributes |= {"network.transport": "tcp", "network.protocol.name": "http"}
        attributes["network.protocol.version"] = http_version
    return attributes


def caller_attributes(ctx: ServerRequestContext) -> dict[str, Any]:
    """Span-only attributes: which session, and who is on the other end."""
    attributes: dict[str, Any] = {}
    session_id = connection_of(ctx).session_id
    if session_id:
        attributes["mcp.session.id"] = session_id
    if ctx.request is not None and ctx.request.client is not None:
        attributes |= {"client.address": ctx.request.client.host, "client.port": ctx.request.client.port}
    return attributes


def link_http_span(ctx: ServerRequestContext, span: trace.Span) -> None:
    """Link, not parent: the MCP span's parent is the client's MCP span, from the
    message's `_meta`; the client's HTTP request that carried the message (its
    `traceparent` header, read by HttpTelemetry in http.py) is a link."""
    http_span = getattr(ctx.request.state, "http_client_span", None) if ctx.request is not None else None
    if http_span is not None and http_span.is_valid:
        span.add_link(http_span)


def time_session(ctx: ServerRequestContext, attributes: dict[str, Any]) -> None:
    """Start a session's clock at `initialize`; stop it when its connection closes.

    Only the 2025 handshake opens a session: on 2026-07-28 every request stands
    alone (`server/discover`, no `Mcp-Session-Id`), so there is nothing to time.
    """
    connection = connection_of(ctx)
    started = time.perf_counter()
    labels = {key: value for key, value in attributes.items() if key.startswith("network.")}

    def record() -> None:
        labels["mcp.protocol.version"] = connection.protocol_version  # negotiated by now
        session_duration.record(time.perf_counter() - started, labels)

    # The SDK unwinds this stack when the connection ends: DELETE, idle timeout,
    # EOF on stdio, or server shutdown.
    connection.exit_stack.callback(record)


def connection_of(ctx: ServerRequestContext) -> Connection:
    # The per-connection state (session id, teardown stack) has no public path
    # from a middleware's context yet; the middleware API is provisional anyway.
    return ctx.session._connection


def is_tool_error(result: HandlerResult) -> bool:
    # The two shapes that reach the wire as `isError: true`, as the SDK's own span checks.
    match result:
        case CallToolResult(is_error=True) | {"isError": True}:
            return True
        case _:
            return False
