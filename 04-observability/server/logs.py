"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport. Each line
carries the trace and span id current when it was written, so a line found in
a log leads to its trace, and a trace to its lines, and has its control
characters escaped (the lesson's safe_output.py).
"""

import logging

from opentelemetry import trace

from ..safe_output import configure_logging as configure_safe_logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s] %(message)s"


class TraceContextFilter(logging.Filter):
    """Stamp every record with the current span's ids ("-" outside a span, or with telemetry off)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else "-"
        record.span_id = f"{context.span_id:016x}" if context.is_valid else "-"
        return True


def configure_logging(level: str) -> None:
    # One stderr handler for the server, the SDK and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT, TraceContextFilter())
