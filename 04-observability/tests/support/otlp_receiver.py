"""A stand-in OpenTelemetry collector for the processes the tests start.

It serves the three OTLP/HTTP endpoints (`/v1/traces`, `/v1/metrics`, `/v1/logs`) from a thread
of the test process, keeps each export's protobuf body, and decodes what a test asks for. A
process started with `OTEL_EXPORTER_OTLP_ENDPOINT=<receiver.endpoint>` exports here.
"""

import gzip
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from .waiting import eventually


@dataclass
class ReceivedSpan:
    """A span as a collector sees it: ids in hex, attributes as a dict."""

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


def attributes_of(items: Any) -> dict[str, Any]:
    return {item.key: any_value(item.value) for item in items}


@dataclass
class OtlpReceiver:
    endpoint: str = ""
    requests: dict[str, list[bytes]] = field(default_factory=lambda: {"traces": [], "metrics": [], "logs": []})

    def spans(self) -> list[ReceivedSpan]:
        return [
            ReceivedSpan(
                service=resource.get("service.name", ""),
                name=span.name,
                kind=Span.SpanKind.Name(span.kind),
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                attributes=attributes_of(span.attributes),
                status_code=Status.StatusCode.Name(span.status.code),
            )
            for body in self.requests["traces"]
            for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans
            for resource in [attributes_of(resource_spans.resource.attributes)]
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def resources(self) -> list[dict[str, Any]]:
        """The resource (service.name, ...) of every batch of spans received."""
        return [
            attributes_of(resource_spans.resource.attributes)
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

    def log_records(self) -> list[LogRecord]:
        return [
            record
            for body in self.requests["logs"]
            for resource_logs in ExportLogsServiceRequest.FromString(body).resource_logs
            for scope_logs in resource_logs.scope_logs
            for record in scope_logs.log_records
        ]

    def wait_for(self, condition: Callable[[], Any], what: str) -> Any:
        """Exporters batch: poll until what is expected has arrived."""
        return eventually(condition, 20, f"{what} at the OTLP receiver")


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
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
