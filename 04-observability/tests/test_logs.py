"""Logs carry the trace they belong to; and the token is in no telemetry at all."""

import pytest

from lesson04.tests.support import clients, tokens

pytestmark = pytest.mark.anyio

TOKEN, MASKED = tokens.ALICE, tokens.ALICE_MASKED


async def test_log_records_carry_the_current_trace_and_span_id(servers_in_process, telemetry) -> None:
    async with clients.connect(servers_in_process.mcp_url, TOKEN) as client:
        await client.call_tool("make_authenticated_request", {"message": "log me"})

    served = telemetry.span("tools/call make_authenticated_request")
    (calling,) = [record for record in telemetry.logs() if str(record.body).startswith("calling http")]
    # The record the tool logged belongs to the tool's span, in the client's trace.
    assert calling.trace_id == served.context.trace_id
    assert calling.span_id == served.context.span_id
    assert calling.body.endswith(f"with token {MASKED}")


async def test_the_token_is_in_no_span_metric_or_log_record(servers_in_process, telemetry) -> None:
    async with clients.connect(servers_in_process.mcp_url, TOKEN) as client:
        assert not (await client.call_tool("show_auth_token", {})).is_error
        assert not (await client.call_tool("make_authenticated_request", {"message": "secret?"})).is_error

    spans = telemetry.spans()
    assert {span.name for span in spans} >= {"tools/call show_auth_token", "GET", "POST"}
    for span in spans:
        assert TOKEN not in span.to_json()  # name, attributes, events, links, resource
    _, points = telemetry.histogram("mcp.server.operation.duration")
    assert points
    assert TOKEN not in repr([dict(point.attributes) for point in points])
    records = telemetry.logs()
    assert any(MASKED in str(record.body) for record in records)
    for record in records:
        assert TOKEN not in str(record.body)
        assert TOKEN not in repr(dict(record.attributes or {}))


async def test_the_token_is_in_nothing_a_stdio_server_exports(servers_in_process, otlp_receiver, telemetry) -> None:
    """Everything the server process sends to a collector, spans, metrics and logs, as raw bytes."""
    env = {"API_KEY": TOKEN, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint}
    stdio = clients.stdio_server("--upstream-url", servers_in_process.upstream_url, env=env)
    async with clients.connect(stdio) as client:
        assert not (await client.call_tool("make_authenticated_request", {"message": "secret?"})).is_error
    trace_id = f"{telemetry.span('MCP send tools/call make_authenticated_request').context.trace_id:032x}"

    otlp_receiver.wait_for(
        lambda: any(record.trace_id.hex() == trace_id for record in otlp_receiver.log_records()),
        "log records of the stdio server",
    )
    assert {"mcp.server.operation.duration"} <= otlp_receiver.metric_names()
    logged = [
        str(record.body.string_value) for record in otlp_receiver.log_records() if record.trace_id.hex() == trace_id
    ]
    assert any(MASKED in body for body in logged)
    everything = b"".join(body for bodies in otlp_receiver.requests.values() for body in bodies)
    assert TOKEN.encode() not in everything
