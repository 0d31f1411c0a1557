"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport. Each line
carries the id of the request it belongs to, taken from the request's context,
and has its control characters escaped (the lesson's safe_output.py). No level
writes a secret: the server masks the token itself, and the HTTP library's debug
lines, which quote the upstream's response headers, are left out.
"""

import logging

from ..safe_output import configure_logging as configure_safe_logging
from .context import request_id

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: str) -> None:
    # One stderr handler for the server, the SDK and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT, RequestIdFilter())
    # At debug level httpcore2, under the upstream client, writes the upstream's response headers: a
    # Set-Cookie there is the user's session with the upstream, a secret no log may keep, at any level.
    logging.getLogger("httpcore2").setLevel(max(logging.getLogger().level, logging.INFO))
