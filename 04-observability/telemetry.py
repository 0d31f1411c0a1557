"""The OpenTelemetry SDK, configured once per process: the server and the client each call this.

`mcp` depends on `opentelemetry-api` only, and without an SDK every span it
creates is a no-op. Installing providers here is what makes those spans, and
ours, real. Each signal goes where the standard variables say:

- `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`: `console`,
  `otlp` or `none` (comma-separated for several), and `prometheus` for metrics
  (a reader that `/metrics` serves). Default: `otlp` when
  `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else console for traces and metrics,
  and none for logs: every log line already goes to stderr with its trace id.
- `OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
  `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_METRIC_EXPORT_INTERVAL`,
  `OTEL_PROPAGATORS`: read by the SDK itself.
- `OTEL_SDK_DISABLED=true`: nothing is installed, the API stays a no-op.

Console output goes to stderr, never stdout: on stdio, stdout is the protocol.
"""

import logging
import os
import sys
import warnings
from collections.abc import Callable

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, ConsoleLogRecordExporter, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    HistogramDataPoint,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter


def configure_telemetry(service_name: str, service_version: str) -> Callable[[], None]:
    """Install the global tracer, meter and logger providers; return the function that flushes and stops them."""
    # The stable HTTP conventions (`http.request.method`, `url.full`, durations in
    # seconds) rather than the httpx2 instrumentation's legacy default. It reads
    # this variable only, once, when first used: set it before instrumenting.
    # An explicit setting in the environment wins.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return lambda: None
    # Our name and version, unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say otherwise.
    resource = Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: service_version}).merge(
        OTELResourceDetector().detect()
    )

    # Batching keeps exporting off the request path: spans are queued and
    # written every few seconds, and at shutdown.
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for span_exporter in span_exporters():
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(tracer_provider)

    meter_provider = MeterProvider(resource=resource, metric_readers=metric_readers(), shutdown_on_exit=False)
    metrics.set_meter_provider(meter_provider)

    # Python's logging, bridged into OpenTelemetry log records: each carries
    # the trace and span id of the span current when it was logged.
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    log_processors = [BatchLogRecordProcessor(exporter) for exporter in log_exporters()]
    for processor in log_processors:
        logger_provider.add_log_record_processor(processor)
    set_logger_provider(logger_provider)
    with warnings.catch_warnings():
        # The SDK's handler is deprecated in favour of the one in
        # opentelemetry-instrumentation-logging, whose only release pins an
        # older opentelemetry-api than this set: keep the SDK's for now.
        warnings.simplefilter("ignore", DeprecationWarning)
        bridge = LoggingHandler(logger_provider=logger_provider)
    # uvicorn's access line ("POST /mcp 200") says what http.server.request.duration
    # already counts: it stays on stderr, but exporting it too would bill every request twice.
    bridge.addFilter(lambda record: record.name != "uvicorn.access")
    if log_processors:
        logging.getLogger().addHandler(bridge)

    # Every httpx2 request becomes a CLIENT span and carries a `traceparent`
    # header: the MCP client's POSTs, and the server's call to the upstream.
    HTTPX2ClientInstrumentor().instrument()

    # Not at exit (the SDK's default): the caller knows when the process is
    # really done, e.g. after uvicorn's shutdown but before it re-raises SIGTERM.
    def shutdown() -> None:
        logging.getLogger().removeHandler(bridge)  # the exporters log while they flush
        for provider in (tracer_provider, meter_provider, logger_provider):
            provider.shutdown()

    return shutdown


def chosen(signal: str, default: str, supported: tuple[str, ...] = ("console", "otlp", "none")) -> set[str]:
    """The exporters OTEL_<SIGNAL>_EXPORTER names, or the default."""
    otlp_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"
    )
    fallback = "otlp" if otlp_endpoint else default
    names = {name.strip() for name in os.environ.get(f"OTEL_{signal}_EXPORTER", fallback).split(",")}
    unknown = names - set(supported)
    if unknown:
        raise ValueError(f"OTEL_{signal}_EXPORTER: unsupported {', '.join(sorted(unknown))} ({', '.join(supported)})")
    return names - {"none"}


# The OTLP exporters are imported only when chosen: they pull in protobuf and requests.
def span_exporters() -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    names = chosen("TRACES", "console")
    if "console" in names:
        exporters.append(ConsoleSpanExporter(out=sys.stderr, formatter=span_line))
    if "otlp" in names:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    return exporters


# Each reader aggregates every measurement on its own: install only those chosen.
def metric_readers() -> list[MetricReader]:
    readers: list[MetricReader] = []
    names = chosen("METRICS", "console", supported=("console", "otlp", "prometheus", "none"))
    if "console" in names:
        readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter(out=sys.stderr, formatter=metric_lines)))
    if "otlp" in names:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if "prometheus" in names:  # pulled, not pushed: what `GET /metrics` serves on the HTTP transport
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        readers.append(PrometheusMetricReader())
    return readers


def log_exporters() -> list[LogRecordExporter]:
    exporters: list[LogRecordExporter] = []
    names = chosen("LOGS", "none")
    if "console" in names:
        exporters.append(ConsoleLogRecordExporter(out=sys.stderr))
    if "otlp" in names:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        exporters.append(OTLPLogExporter())
    return exporters


# One line per span and per histogram point instead of the SDK's indented JSON,
# so a trace reads top to bottom in a terminal: ids first, then what happened.
def span_line(span: ReadableSpan) -> str:
    context = span.get_span_context()
    parent = f"{span.parent.span_id:016x}" if span.parent else "-" * 16
    milliseconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    attributes = " ".join(f"{key}={value}" for key, value in (span.attributes or {}).items())
    links = "".join(f" link={link.context.span_id:016x}" for link in span.links)
    return (
        f"span {context.trace_id:032x} {context.span_id:016x} parent={parent} "
        f"{span.kind.name} {span.name!r} {milliseconds:.1f}ms {span.status.status_code.name}{links} {attributes}\n"
    )


def metric_lines(data: MetricsData) -> str:
    lines = []
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    labels = " ".join(f"{key}={value}" for key, value in point.attributes.items())
                    if isinstance(point, HistogramDataPoint):
                        value = f"count={point.count} sum={point.sum:.4f}{metric.unit}"
                    else:
                        value = f"value={point.value}"
                    lines.append(f"metric {metric.name} {value} {labels}\n")
    return "".join(lines)
