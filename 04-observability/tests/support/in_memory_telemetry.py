"""The OpenTelemetry SDK for the test process itself, exporting to memory instead of a collector.

The lesson's `telemetry.py` installs batch processors and real exporters; a test wants every span,
metric point and log record of its own process (the client's, and an in-process server's) readable
the moment it ends. Providers can be installed once per process only, so `install()` does it on
first call and hands the same collector to every later caller.
"""

import functools
import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, Metric
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass(frozen=True)
class InMemoryTelemetry:
    """What this process has recorded: spans and log records since `clear()`, metrics since the start."""

    span_exporter: InMemorySpanExporter
    metric_reader: InMemoryMetricReader
    log_exporter: InMemoryLogRecordExporter

    def clear(self) -> None:
        self.span_exporter.clear()
        self.log_exporter.clear()

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        """The one span with this name."""
        (found,) = [span for span in self.spans() if span.name == name]
        return found

    def logs(self) -> list[Any]:
        return [record.log_record for record in self.log_exporter.get_finished_logs()]

    def histogram(self, name: str, scope: str | None = None) -> tuple[Metric | None, list[HistogramDataPoint]]:
        """The metric (for its unit) and its data points; cumulative since the process started.

        `scope` is the meter's name, for a metric that two instrumentations record: the in-process
        echo upstream is a FastAPI app, whose own telemetry also records `http.server.request.duration`.
        """
        data = self.metric_reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name and scope in (None, scope_metrics.scope.name):
                        return metric, list(metric.data.data_points)
        return None, []

    def count(self, name: str, *, scope: str | None = None, **attributes: Any) -> int:
        """How many measurements of `name` carry (at least) these attributes; `a__b=1` means `a.b=1`."""
        wanted = {key.replace("__", "."): value for key, value in attributes.items()}
        _, points = self.histogram(name, scope)
        return sum(point.count for point in points if wanted.items() <= dict(point.attributes).items())


@functools.cache
def install() -> InMemoryTelemetry:
    """Install in-memory tracer, meter and logger providers for this process, once."""
    # As telemetry.py does, before anything is instrumented: the stable HTTP conventions.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    collected = InMemoryTelemetry(InMemorySpanExporter(), InMemoryMetricReader(), InMemoryLogRecordExporter())
    # Simple (synchronous) processors: a span is readable as soon as it ends.
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(collected.span_exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[collected.metric_reader]))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(collected.log_exporter))
    set_logger_provider(logger_provider)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # see telemetry.py
        logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))
    HTTPX2ClientInstrumentor().instrument()
    return collected
