"""Where telemetry goes: console on stderr by default, OTLP when asked, nothing when disabled."""

import re
import signal

import pytest
import typer

from lesson04.server.__main__ import parse_endpoint
from lesson04.tests.support import clients, processes

run_cli = processes.run_cli

pytestmark = pytest.mark.anyio

SPAN_LINE = re.compile(r"^span (\w{32}) (\w{16}) parent=(\S{16}) (\w+) '([^']*)'", re.M)


def printed_trace_id(stderr: str) -> str:
    (trace_id,) = re.findall(r"^trace_id: ([0-9a-f]{32})$", stderr, re.M)
    return trace_id


def test_by_default_both_processes_print_one_trace_to_stderr() -> None:
    """The client spawns the server over stdio by default. The server is its child and shares its stderr:
    one trace, two processes, one terminal."""
    result = run_cli("client", "call", "echo_message", "message=hi")
    assert result.returncode == 0, result.stderr
    # stdout is the result and nothing else (on the server's side, stdout is the protocol).
    assert result.stdout.splitlines() == ["Echo: hi", 'structured: {"result": "Echo: hi"}']

    trace_id = printed_trace_id(result.stderr)
    spans = {
        name: (trace, span_id, parent, kind) for trace, span_id, parent, kind, name in SPAN_LINE.findall(result.stderr)
    }
    assert {spans[name][0] for name in spans} == {trace_id}
    command = spans["call echo_message"]
    sent = spans["MCP send tools/call echo_message"]
    served = spans["tools/call echo_message"]  # printed by the server process
    assert (command[3], sent[3], served[3]) == ("INTERNAL", "CLIENT", "SERVER")
    assert sent[2] == command[1]
    assert served[2] == sent[1]
    assert re.search(
        r"^metric mcp\.client\.operation\.duration count=1 .*gen_ai\.tool\.name=echo_message", result.stderr, re.M
    )
    assert re.search(
        r"^metric mcp\.server\.operation\.duration count=1 .*gen_ai\.tool\.name=echo_message", result.stderr, re.M
    )


def test_otlp_endpoint_sends_both_processes_telemetry_to_a_collector(otlp_receiver) -> None:
    result = run_cli(
        "client",
        "--otlp-endpoint",
        otlp_receiver.endpoint,
        "call",
        "add_numbers",
        "num1=1",
        "num2=2",
        env={"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=workshop"},
    )
    assert result.returncode == 0, result.stderr
    assert not SPAN_LINE.search(result.stderr)  # OTLP instead of the console
    trace_id = printed_trace_id(result.stderr)

    # The client flushes at exit, after its child has: both are in by now.
    spans = [span for span in otlp_receiver.spans() if span.trace_id == trace_id]
    by_service = {(span.service, span.name) for span in spans}
    assert {
        ("observability-client", "MCP send tools/call add_numbers"),
        ("observability", "tools/call add_numbers"),
    } <= by_service
    resources = [
        resource
        for resource in otlp_receiver.resources()
        if resource.get("service.name", "").startswith("observability")
    ]
    for resource in resources:
        # Ours, plus the standard variable's, which the client passed on to its child.
        assert resource["service.version"] == "0.1.0"
        assert resource["deployment.environment.name"] == "workshop"
    assert {resource["service.name"] for resource in resources} == {"observability", "observability-client"}
    assert {"mcp.client.operation.duration", "mcp.server.operation.duration"} <= otlp_receiver.metric_names()


async def test_sigterm_shuts_the_http_server_down_gracefully_and_flushes_its_telemetry(
    otlp_receiver, telemetry
) -> None:
    with processes.start_http_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint}) as server:
        async with clients.connect(server.mcp_url) as client:
            await client.call_tool("echo_message", {"message": "flush me"})
        log = server.stop()  # SIGTERM, well before the batch processor's 5 s schedule

    # uvicorn finishes its shutdown, then re-raises the signal so a supervisor sees why it stopped.
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log
    assert "StreamableHTTP session manager shutting down" in log
    # The spans still queued in the batch processor were exported on the way out.
    trace_id = f"{telemetry.span('MCP send tools/call echo_message').context.trace_id:032x}"
    names = {span.name for span in otlp_receiver.spans() if span.trace_id == trace_id}
    assert "tools/call echo_message" in names
    assert "http.server.request.duration" in otlp_receiver.metric_names()  # read at shutdown, not after 60 s
    # Log records too, by logger (the scope's name) - but not uvicorn's access lines: the HTTP histogram
    # counts those requests.
    exported_logs = b"".join(otlp_receiver.requests["logs"])
    assert b"uvicorn.error" in exported_logs
    assert b"uvicorn.access" not in exported_logs


def test_otel_sdk_disabled_turns_everything_off() -> None:
    result = run_cli("client", "--url", "http://127.0.0.1:9/mcp", "tools", env={"OTEL_SDK_DISABLED": "true"})
    assert result.stderr.startswith("error: cannot talk to")  # and nothing else
    assert "trace_id" not in result.stderr
    assert not SPAN_LINE.search(result.stderr)
    assert "metric " not in result.stderr


def test_an_unknown_exporter_is_a_usage_error() -> None:
    result = run_cli("server", env={"OTEL_TRACES_EXPORTER": "jaeger"})
    assert result.returncode == 2
    assert "OTEL_TRACES_EXPORTER: unsupported jaeger (console, otlp, none)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["127.0.0.1:4318", "grpc://127.0.0.1:4317", "http://"])
def test_an_otlp_endpoint_that_is_not_an_http_url_is_refused(url: str) -> None:
    # The same usage error, without a process per case: the server's own parser, in-process.
    with pytest.raises(typer.BadParameter, match="is not an http"):
        parse_endpoint(url)
