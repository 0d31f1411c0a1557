"""Metrics: the MCP duration histograms and the HTTP one, in seconds with the advised buckets; Prometheus's view."""

import re

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import EmptyResult, Request

from lesson04.client.instrumentation import TimedClient
from lesson04.tests.support import clients, processes
from lesson04.tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
SERVER_OPERATION = "mcp.server.operation.duration"
HTTP_DURATION, HTTP_SCOPE = "http.server.request.duration", f"{processes.LESSON}.server.http"
HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]


async def test_server_operation_duration_is_a_histogram_in_seconds(servers_in_process, telemetry) -> None:
    call = {"mcp__method__name": "tools/call", "gen_ai__tool__name": "add_numbers", "network__transport": "tcp"}
    before = telemetry.count(SERVER_OPERATION, **call)
    async with clients.connect(servers_in_process.mcp_url) as client:
        for _ in range(3):
            await client.call_tool("add_numbers", {"num1": 1, "num2": 2})

    metric, points = telemetry.histogram(SERVER_OPERATION)
    assert metric.unit == "s"
    assert telemetry.count(SERVER_OPERATION, **call) == before + 3
    (point,) = [  # test_traces.py's failed add_numbers call has a series of its own, with an error.type
        point
        for point in points
        if point.attributes.get("gen_ai.tool.name") == "add_numbers" and "error.type" not in point.attributes
    ]
    assert list(point.explicit_bounds) == BUCKETS
    assert sum(point.bucket_counts) == point.count
    assert 0 < point.sum < 3 * BUCKETS[-1]
    assert dict(point.attributes) == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2026-07-28",
        "gen_ai.tool.name": "add_numbers",
        "gen_ai.operation.name": "execute_tool",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "network.protocol.version": "1.1",
    }
    # Every message is measured, not only tool calls.
    assert telemetry.count(SERVER_OPERATION, mcp__method__name="server/discover") >= 1
    assert telemetry.count(SERVER_OPERATION, mcp__method__name="tools/list") >= 1


async def test_failures_are_counted_with_their_error_type(servers_in_process, telemetry) -> None:
    tool_error = {"gen_ai__tool__name": "show_auth_token", "error__type": "tool_error"}
    before = telemetry.count(SERVER_OPERATION, **tool_error)
    async with clients.connect(servers_in_process.mcp_url) as client:  # no token: the tool fails
        assert (await client.call_tool("show_auth_token", {})).is_error
    assert telemetry.count(SERVER_OPERATION, **tool_error) == before + 1


async def test_a_json_rpc_error_is_counted_with_its_code(servers_in_process, telemetry) -> None:
    """A method the server does not know: the error travels as JSON-RPC code -32601, and so is labelled."""
    before = telemetry.count(SERVER_OPERATION, mcp__method__name="tools/explode", error__type="-32601")
    async with (
        httpx2.AsyncClient() as http,
        Client(streamable_http_client(servers_in_process.mcp_url, http_client=http), mode="legacy") as client,
    ):
        with pytest.raises(MCPError, match="Method not found"):
            await client.session.send_request(Request(method="tools/explode", params=None), EmptyResult)
    assert telemetry.count(SERVER_OPERATION, mcp__method__name="tools/explode", error__type="-32601") == before + 1


async def test_a_legacy_session_is_timed_and_its_id_is_on_the_spans(servers_in_process, telemetry) -> None:
    """The 2025 handshake opens a session (`Mcp-Session-Id`); the 2026 protocol the SDK speaks by default has none."""
    before = telemetry.count("mcp.server.session.duration", network__transport="tcp")
    async with (
        httpx2.AsyncClient() as http,
        Client(streamable_http_client(servers_in_process.mcp_url, http_client=http), mode="legacy") as client,
    ):
        await client.call_tool("echo_message", {"message": "in a session"})
    # The client's DELETE ends the session; the server records it as the connection winds down.
    eventually(
        lambda: telemetry.count("mcp.server.session.duration", network__transport="tcp") > before,
        message="the session's duration recorded",
    )

    metric, points = telemetry.histogram("mcp.server.session.duration")
    assert metric.unit == "s"
    assert {tuple(point.explicit_bounds) for point in points} == {tuple(BUCKETS)}
    assert all("mcp.session.id" not in point.attributes for point in points)  # one series per session: never
    session_ids = {
        span.attributes.get("mcp.session.id")
        for span in telemetry.spans()
        if span.name in ("initialize", "tools/call echo_message")
    }
    assert len(session_ids) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", session_ids.pop() or "")


async def test_client_operation_duration_is_recorded_around_each_call(servers_in_process, telemetry) -> None:
    port = int(servers_in_process.mcp_url.rsplit(":", 1)[1].split("/")[0])
    ok = {"gen_ai__tool__name": "echo_message", "server__port": port}
    failed = {"gen_ai__tool__name": "show_auth_token", "error__type": "tool_error", "server__port": port}
    before = [telemetry.count("mcp.client.operation.duration", **labels) for labels in (ok, failed)]
    async with clients.connect(servers_in_process.mcp_url) as connected:
        client = TimedClient(connected, servers_in_process.mcp_url)
        await client.list_tools()
        await client.call_tool("echo_message", {"message": "timed"})
        await client.call_tool("show_auth_token", {})

    metric, points = telemetry.histogram("mcp.client.operation.duration")
    assert metric.unit == "s"
    assert telemetry.count("mcp.client.operation.duration", **ok) == before[0] + 1
    assert telemetry.count("mcp.client.operation.duration", **failed) == before[1] + 1
    (point,) = [
        point
        for point in points
        if point.attributes.get("server.port") == port
        and "error.type" not in point.attributes
        and point.attributes.get("gen_ai.tool.name") == "echo_message"
    ]
    assert list(point.explicit_bounds) == BUCKETS
    assert dict(point.attributes) == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2026-07-28",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "echo_message",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "server.address": "127.0.0.1",
        "server.port": port,
    }


async def test_every_http_request_is_timed_refusals_too_but_not_probes(servers_in_process, telemetry) -> None:
    """`http.server.request.duration` also sees the requests that never become an MCP message."""

    def timed(**attributes: object) -> int:
        return telemetry.count(HTTP_DURATION, scope=HTTP_SCOPE, **attributes)

    before = {"ok": timed(http__response__status_code=200), "refused": timed(http__response__status_code=400)}
    before |= {"made-up": timed(http__request__method="_OTHER"), "all": timed()}
    async with clients.connect(servers_in_process.mcp_url) as client:
        await client.call_tool("echo_message", {"message": "timed"})
    async with httpx2.AsyncClient() as http:
        refused = await http.post(servers_in_process.mcp_url, content=b"{}", headers={"Content-Type": "text/plain"})
        assert refused.status_code == 400
        # A made-up method counts as `_OTHER`: one series per method a client invents would grow without bound.
        assert (await http.request("BREW", servers_in_process.mcp_url)).status_code == 405
        assert (await http.get(servers_in_process.mcp_url.replace("/mcp", "/healthz"))).status_code == 200

    ok = timed(http__response__status_code=200) - before["ok"]
    assert ok >= 2  # the client's POSTs: server/discover, tools/call (and tools/list)
    assert timed(http__response__status_code=400) == before["refused"] + 1
    assert timed(http__request__method="_OTHER", http__response__status_code=405) == before["made-up"] + 1
    assert timed() == before["all"] + ok + 2  # and the probe not at all
    metric, points = telemetry.histogram(HTTP_DURATION, HTTP_SCOPE)
    assert metric.unit == "s"
    (point,) = [
        point
        for point in points
        if point.attributes.get("http.request.method") == "POST"
        and point.attributes.get("http.response.status_code") == 200
    ]
    assert list(point.explicit_bounds) == HTTP_BUCKETS
    assert dict(point.attributes) == {
        "http.request.method": "POST",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
    }


async def test_prometheus_scrapes_the_histograms_from_metrics() -> None:
    with processes.start_http_server(env={"OTEL_METRICS_EXPORTER": "prometheus"}) as server:
        async with clients.connect(server.mcp_url) as client:
            await client.call_tool("add_numbers", {"num1": 1, "num2": 2})
            await client.call_tool("show_auth_token", {})  # no token: a tool error
        for made_up in ("BREW", "WHEN", "XYZZY"):  # each one more series, were methods not bounded
            assert httpx2.request(made_up, server.mcp_url, timeout=5).status_code == 405
        scrape = httpx2.get(f"{server.base_url}/metrics", timeout=5)
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    # OpenTelemetry's dots become underscores, and the unit a suffix.
    samples = []
    for line in scrape.text.splitlines():
        sample = re.fullmatch(r"mcp_server_operation_duration_seconds_(\w+)\{(.*)\} (\S+)", line)
        if sample:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', sample.group(2)))
            if labels["gen_ai_tool_name"] == "add_numbers" and not labels.get("error_type"):
                samples.append((sample.group(1), labels, float(sample.group(3))))
    buckets = [(float(labels["le"]), value) for kind, labels, value in samples if kind == "bucket"]
    (count,) = [value for kind, _, value in samples if kind == "count"]
    assert [bound for bound, _ in buckets] == [*BUCKETS, float("inf")]
    assert count == 1
    assert buckets[-1][1] == count  # +Inf holds every measurement
    # The failed call's series has error_type="tool_error"; the others have the label too, empty:
    # Prometheus gives every series of a metric the same label names.
    assert re.search(r'mcp_server_operation_duration_seconds_count\{[^}]*error_type="tool_error"', scrape.text)
    assert re.search(r'mcp_server_operation_duration_seconds_count\{[^}]*error_type=""', scrape.text)
    # The HTTP histogram: the made-up methods are one series, `_OTHER`, and none is named.
    (other,) = re.findall(
        r'http_server_request_duration_seconds_count\{[^}]*http_request_method="_OTHER"[^}]*\} (\S+)', scrape.text
    )
    assert float(other) == 3
    assert not re.search("BREW|WHEN|XYZZY", scrape.text)


async def test_without_prometheus_chosen_metrics_serves_no_mcp_metrics(server) -> None:
    """A metric reader aggregates every measurement: only the ones chosen are installed."""
    scrape = httpx2.get(f"{server.base_url}/metrics", timeout=5)
    assert scrape.status_code == 200
    assert "mcp_server_operation_duration" not in scrape.text
