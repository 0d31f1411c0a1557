"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport. Each line
carries the trace and span id current when it was written, so a line found in
a log leads to its trace, and a trace to its lines.
"""

import logging
import sys

from opentelemetry import trace

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s] %(message)s"


class TraceContextFilter(logging.Filter):
    """Stamp every record with the current span's ids ("-" outside a span, or with telemetry off)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else "-"
        record.span_id = f"{context.span_id:016x}" if context.is_valid else "-"
        return True


def configure_logging(level: str) -> None:
    # force=True replaces the handler MCPServer installs on import, so the
    # server, the SDK and uvicorn all log through this one stderr handler.
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(TraceContextFilter())
