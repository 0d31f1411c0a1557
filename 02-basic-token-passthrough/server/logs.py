"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport. Each line
carries the id of the request it belongs to, taken from the request's context,
and has its control characters escaped (the lesson's safe_output.py). No level
writes a secret: the server masks the token itself, and the HTTP library's debug
lines, which quote the upstream's response headers, are left out.

A token belongs in the Authorization header, but someone will paste one into a
URL (`/mcp?access_token=...`; the MCP authorization spec forbids it), and
uvicorn's access log would write it down. No MCP route uses a query string, so
the access log shows `?...` in its place.
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


class RedactQueryStrings(logging.Filter):
    """uvicorn's access lines, with `?...` in place of a query string (where a misplaced token would be)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access records carry (client, method, path?query, http version, status).
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            if isinstance(path, str) and "?" in path:
                record.args = (client, method, f"{path.partition('?')[0]}?...", version, status)
        return True


def configure_logging(level: str) -> None:
    # One stderr handler for the server, the SDK and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT, RequestIdFilter(), RedactQueryStrings())
    # At debug level httpcore2, under the upstream client, writes the upstream's response headers: a
    # Set-Cookie there is the user's session with the upstream, a secret no log may keep, at any level.
    logging.getLogger("httpcore2").setLevel(max(logging.getLogger().level, logging.INFO))
