"""Traces: one trace from the client, through the server and its tool, to the upstream, on both transports."""

import httpx2
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from lesson04.tests.support import clients, tokens
from lesson04.tests.support import raw_jsonrpc as raw

pytestmark = pytest.mark.anyio

TOKEN = tokens.ALICE


async def test_one_trace_from_client_to_upstream_over_http(servers_in_process, telemetry, caplog) -> None:
    async with clients.connect(servers_in_process.mcp_url, TOKEN) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "trace me"})
    assert not result.is_error, result.content

    # The SDK's CLIENT span (named by the SDK, not by the conventions) and the server's SERVER span.
    sent = telemetry.span("MCP send tools/call make_authenticated_request")
    served = telemetry.span("tools/call make_authenticated_request")
    assert (sent.kind, served.kind) == (SpanKind.CLIENT, SpanKind.SERVER)
    # The server span's parent is the client span, from the message's `_meta`, across the wire.
    assert served.parent.span_id == sent.context.span_id
    assert served.parent.is_remote
    # The HTTP request that carried the message: httpx2's CLIENT span, which the MCP span links to.
    # The server makes no HTTP span of its own: nothing comes between the two processes' spans.
    (post,) = [
        span for span in telemetry.spans() if span.name == "POST" and span.parent.span_id == sent.context.span_id
    ]
    assert [link.context.span_id for link in served.links] == [post.context.span_id]
    assert not [span for span in telemetry.spans() if span.parent and span.parent.span_id == post.context.span_id]
    # The tool's upstream call: a CLIENT span under the tool's span.
    (upstream_call,) = [span for span in telemetry.spans() if span.name == "GET"]
    assert upstream_call.kind == SpanKind.CLIENT
    assert upstream_call.parent.span_id == served.context.span_id
    assert upstream_call.attributes["url.full"].startswith(servers_in_process.upstream_url)
    assert upstream_call.attributes["http.response.status_code"] == 200

    trace_id = sent.context.trace_id
    assert {span.context.trace_id for span in (served, post, upstream_call)} == {trace_id}
    # The upstream received the context and logged it: the trace id, and the GET span as its parent.
    traceparent = f"00-{trace_id:032x}-{upstream_call.context.span_id:016x}-"  # then the flags: sampled, ...
    assert result.structured_content["headers"]["Traceparent"].startswith(traceparent)
    assert f"trace_id={trace_id:032x} parent_span_id={upstream_call.context.span_id:016x}" in caplog.text


async def test_one_trace_from_client_to_upstream_over_stdio(
    servers_in_process, otlp_receiver, telemetry, caplog
) -> None:
    """The server is a child process: it exports to the test's OTLP receiver, and the ids must still line up."""
    env = {
        "API_KEY": TOKEN,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",  # opt in to recording the arguments
    }
    stdio = clients.stdio_server("--upstream-url", servers_in_process.upstream_url, env=env)
    async with clients.connect(stdio) as client:
        result = await client.call_tool("make_authenticated_request", {"message": "over stdio"})
    assert not result.is_error, result.content

    sent = telemetry.span("MCP send tools/call make_authenticated_request")
    trace_id = f"{sent.context.trace_id:032x}"

    def received(name: str):
        return [span for span in otlp_receiver.spans() if span.trace_id == trace_id and span.name == name]

    # The client waits for its child to exit, and the server flushes before exiting; poll anyway.
    otlp_receiver.wait_for(lambda: received("GET"), "upstream span from the stdio server")
    (served,) = received("tools/call make_authenticated_request")
    (upstream_call,) = received("GET")
    assert served.service == "observability"
    assert served.kind == "SPAN_KIND_SERVER"
    assert served.parent_span_id == f"{sent.context.span_id:016x}"
    assert served.attributes["network.transport"] == "pipe"
    assert served.attributes["gen_ai.tool.call.arguments"] == '{"message": "over stdio"}'
    assert upstream_call.kind == "SPAN_KIND_CLIENT"
    assert upstream_call.parent_span_id == served.span_id
    assert f"trace_id={trace_id} parent_span_id={upstream_call.span_id}" in caplog.text


async def test_a_message_without_trace_context_joins_the_trace_of_its_traceparent_header(
    servers_in_process, telemetry
) -> None:
    """A client that propagates in HTTP headers only: the MCP span's parent is the caller's HTTP span."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": raw.MODERN_META}}
    async with httpx2.AsyncClient() as http:  # instrumented: its span goes in a `traceparent` header
        response = await http.post(servers_in_process.mcp_url, json=request, headers=raw.modern_headers("tools/list"))
    assert response.status_code == 200, response.text

    (post,) = [span for span in telemetry.spans() if span.name == "POST"]
    (served,) = [span for span in telemetry.spans() if span.name == "tools/list" and span.kind == SpanKind.SERVER]
    assert served.context.trace_id == post.context.trace_id
    assert served.parent.span_id == post.context.span_id


async def test_the_client_command_span_is_the_root_of_the_trace(servers_in_process, telemetry) -> None:
    with trace.get_tracer("test").start_as_current_span("call echo_message") as command:
        async with clients.connect(servers_in_process.mcp_url) as client:
            await client.call_tool("echo_message", {"message": "hi"})
    # Connecting and calling are children of the command: one trace per command, as the CLI does it.
    sent = [span for span in telemetry.spans() if span.name.startswith("MCP send")]
    assert {span.name for span in sent} >= {"MCP send server/discover", "MCP send tools/call echo_message"}
    assert {span.parent.span_id for span in sent} == {command.get_span_context().span_id}


async def test_server_spans_follow_the_mcp_conventions(servers_in_process, telemetry) -> None:
    async with clients.connect(servers_in_process.mcp_url) as client:
        await client.list_tools()
        await client.call_tool("add_numbers", {"num1": 1, "num2": 2})

    call = telemetry.span("tools/call add_numbers")
    assert call.kind == SpanKind.SERVER
    assert call.status.status_code == StatusCode.UNSET
    attributes = dict(call.attributes)
    assert attributes["client.port"] > 0
    assert attributes["jsonrpc.request.id"].isdigit()
    assert {key: value for key, value in attributes.items() if key not in ("client.port", "jsonrpc.request.id")} == {
        # Set by the SDK:
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2026-07-28",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "add_numbers",
        # Added by the lesson's middleware:
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "network.protocol.version": "1.1",
        "client.address": "127.0.0.1",
    }
    listed = [span for span in telemetry.spans() if span.name == "tools/list" and span.kind == SpanKind.SERVER]
    assert listed
    assert not [key for key in listed[0].attributes if key.startswith("gen_ai.")]  # nothing to name


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("show_auth_token", {}),  # the tool raises ToolError: no token
        ("no_such_tool", {}),  # the SDK answers an unknown tool with an isError result too
        ("add_numbers", {"num1": "two", "num2": 3}),  # arguments that fail validation
    ],
)
async def test_a_failing_tool_gives_an_error_status_and_error_type(
    servers_in_process, telemetry, tool: str, arguments: dict
) -> None:
    async with clients.connect(servers_in_process.mcp_url) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error

    served = telemetry.span(f"tools/call {tool}")
    assert served.status.status_code == StatusCode.ERROR
    assert served.attributes["error.type"] == "tool_error"
    # The SDK leaves its client span UNSET for a tool error: only a JSON-RPC error is an error on the wire.
    assert telemetry.span(f"MCP send tools/call {tool}").status.status_code == StatusCode.UNSET
