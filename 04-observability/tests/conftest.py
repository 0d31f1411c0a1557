"""Real processes on real transports, and the telemetry they emit.

Most servers are started with `python -m`, as an attendee would; they export
over OTLP to a small receiver in the test process when a test needs their
spans. For the finest-grained checks the server and the echo upstream also run
in this process, on real sockets, so their spans, metrics and logs land in the
in-memory exporters installed below, next to the client's.
"""

import gzip
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

LESSON_DIR = Path(__file__).resolve().parents[1]
LESSON = LESSON_DIR.name  # "01-basic-mcp", importable with `python -m` from the root
REPOSITORY_ROOT = LESSON_DIR.parent
STARTUP_DEADLINE = 20.0

# This process's telemetry, installed once (providers are set-once) before any
# lesson module is imported: the client's, and that of in-process servers.
# Simple (synchronous) processors, so a span is readable as soon as it ends.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")  # as telemetry.py does, before instrumenting
SPANS = InMemorySpanExporter()
METRICS = InMemoryMetricReader()
LOGS = InMemoryLogRecordExporter()
_tracer_provider = TracerProvider()
_tracer_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_tracer_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[METRICS]))
_logger_provider = LoggerProvider()
_logger_provider.add_log_record_processor(SimpleLogRecordProcessor(LOGS))
set_logger_provider(_logger_provider)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # see telemetry.py
    logging.getLogger().addHandler(LoggingHandler(logger_provider=_logger_provider))
logging.getLogger(LESSON).setLevel(logging.INFO)  # the root logger stops at WARNING; the tools log at INFO
HTTPX2ClientInstrumentor().instrument()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    base_url: str
    log: IO[str]  # the server's stderr: a file, so a chatty server never blocks on a full pipe

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the server logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.seek(0)
        return self.log.read()


def wait_until_healthy(server: RunningServer) -> None:
    """Poll /healthz until it answers, the process dies, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.stop()}")
        try:
            if httpx2.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not healthy after {STARTUP_DEADLINE}s:\n{server.stop()}")


@contextmanager
def start_process(module: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """`python -m <lesson>.<module> --addr 127.0.0.1:<free port> ...`, healthy or an error."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"{LESSON}.{module}", "--addr", f"127.0.0.1:{port}", *extra],
            cwd=REPOSITORY_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        server = RunningServer(process, f"http://127.0.0.1:{port}", log)
        try:
            wait_until_healthy(server)
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def echo_upstream() -> Iterator[RunningServer]:
    """The lesson's own echo upstream (httpbin's /anything shape)."""
    with start_process("upstream") as running:
        yield running


@pytest.fixture(scope="module")
def server(echo_upstream: RunningServer) -> Iterator[RunningServer]:
    """One HTTP server shared by a test module, calling the echo upstream."""
    with start_process(
        "server", "--transport", "http", "--upstream-url", f"{echo_upstream.base_url}/anything"
    ) as running:
        yield running


@pytest.fixture(scope="session")
def http_server():
    """Start a dedicated HTTP server: `with http_server("--flag", env={...}) as server: ...`."""
    return lambda *extra, env=None: start_process("server", "--transport", "http", *extra, env=env)


@dataclass
class RecordingUpstream:
    """An upstream that remembers the Authorization header of every request it gets.

    The MCP server masks the token in what it returns, so only the upstream
    itself can show that the whole token arrived.
    """

    url: str
    authorizations: list[str | None] = field(default_factory=list)


@pytest.fixture(scope="module")
def recording_upstream() -> Iterator[RecordingUpstream]:
    recorder = RecordingUpstream(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.authorizations.append(self.headers.get("Authorization"))
            args = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            body = json.dumps({"args": args, "headers": dict(self.headers.items())}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        recorder.url = f"http://127.0.0.1:{http.server_address[1]}/anything"
        Thread(target=http.serve_forever, daemon=True).start()
        yield recorder
        http.shutdown()


@pytest.fixture
def stdio_server():
    """Parameters for `Client(...)` to spawn the server over stdio, logging at debug to stderr."""

    def parameters(*extra: str, env: dict[str, str] | None = None) -> StdioServerParameters:
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", "debug", *extra],
            cwd=REPOSITORY_ROOT,
            env=env,
        )

    return parameters


@pytest.fixture
def open_client():
    """Connect the SDK `Client` to a URL or a stdio server, sending `token` the way that transport allows."""

    @asynccontextmanager
    async def connected(target: str | StdioServerParameters, token: str | None = None) -> AsyncIterator[Client]:
        if isinstance(target, StdioServerParameters):
            async with Client(target) as client:
                yield client
            return
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(target, http_client=http)) as client,
        ):
            yield client

    return connected


@pytest.fixture
def run_cli():
    """Run `python -m <lesson>.<module> ...` to completion, capturing its output."""

    def run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", f"{LESSON}.{module}", *args],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            check=False,
        )

    return run


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Telemetry:
    """What this process's in-memory exporters and reader have collected since the test started."""

    def spans(self) -> list[Any]:
        return list(SPANS.get_finished_spans())

    def span(self, name: str) -> Any:
        (found,) = [span for span in self.spans() if span.name == name]
        return found

    def logs(self) -> list[Any]:
        return [record.log_record for record in LOGS.get_finished_logs()]

    def histogram(self, name: str) -> tuple[Any, list[Any]]:
        """The metric (for its unit) and its data points; cumulative since the process started."""
        data = METRICS.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        return metric, list(metric.data.data_points)
        return None, []

    def count(self, name: str, **attributes: Any) -> int:
        """How many measurements of `name` carry (at least) these attributes."""
        wanted = {key.replace("__", "."): value for key, value in attributes.items()}
        _, points = self.histogram(name)
        return sum(point.count for point in points if wanted.items() <= dict(point.attributes).items())


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    SPANS.clear()
    LOGS.clear()
    yield Telemetry()
    SPANS.clear()
    LOGS.clear()


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """uvicorn in a thread of this process: real sockets, and a context of its own (threads share no
    contextvars), so trace context can only arrive the way it would from another process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("in-process server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def lesson_module():
    """Import one of this lesson's modules by its name inside the lesson: `lesson_module("server.app")`."""
    return lambda name: importlib.import_module(f"{LESSON}.{name}")


@dataclass
class InProcess:
    mcp_url: str
    upstream_url: str  # the echo upstream's /anything


@pytest.fixture(scope="module")
def in_process() -> Iterator[InProcess]:
    """The lesson's echo upstream and HTTP server, running in this process."""
    upstream = importlib.import_module(f"{LESSON}.upstream.app")
    app = importlib.import_module(f"{LESSON}.server.app")
    http = importlib.import_module(f"{LESSON}.server.http")
    with serve_in_thread(upstream.app) as upstream_base:
        mcp = app.create_server(f"{upstream_base}/anything")
        with serve_in_thread(http.create_http_app(mcp)) as base:
            yield InProcess(mcp_url=f"{base}/mcp", upstream_url=f"{upstream_base}/anything")


@dataclass
class ReceivedSpan:
    """A span as an OTLP receiver sees it: ids in hex, attributes as a dict."""

    service: str
    name: str
    kind: str  # "SPAN_KIND_SERVER", ...
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: str


def any_value(value: AnyValue) -> Any:
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


@dataclass
class OtlpReceiver:
    """The three OTLP/HTTP endpoints of a collector, decoded and kept in memory."""

    endpoint: str = ""
    requests: dict[str, list[bytes]] = field(default_factory=lambda: {"traces": [], "metrics": [], "logs": []})

    def spans(self) -> list[ReceivedSpan]:
        spans = []
        for body in self.requests["traces"]:
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
                resource = {item.key: any_value(item.value) for item in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        spans.append(
                            ReceivedSpan(
                                service=resource.get("service.name", ""),
                                name=span.name,
                                kind=Span.SpanKind.Name(span.kind),
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                attributes={item.key: any_value(item.value) for item in span.attributes},
                                status_code=Status.StatusCode.Name(span.status.code),
                            )
                        )
        return spans

    def resources(self) -> list[dict[str, Any]]:
        return [
            {item.key: any_value(item.value) for item in resource_spans.resource.attributes}
            for body in self.requests["traces"]
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans
        ]

    def metric_names(self) -> set[str]:
        return {
            metric.name
            for body in self.requests["metrics"]
            for resource_metrics in ExportMetricsServiceRequest.FromString(body).resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        }

    def log_records(self) -> list[Any]:
        return [
            record
            for body in self.requests["logs"]
            for resource_logs in ExportLogsServiceRequest.FromString(body).resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]

    def wait_for(self, predicate: Any, what: str) -> None:
        """Exporters batch: poll until what we expect has arrived, or fail after a deadline."""
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} received; spans: {[span.name for span in self.spans()]}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A stand-in collector for the servers this suite starts: OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint."""
    receiver = OtlpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            signal_name = self.path.rsplit("/", 1)[-1]  # /v1/traces -> traces
            receiver.requests.setdefault(signal_name, []).append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        receiver.endpoint = f"http://127.0.0.1:{http.server_address[1]}"
        Thread(target=http.serve_forever, daemon=True).start()
        yield receiver
        http.shutdown()
