"""Logging: to stderr, with query strings kept out of the access log.

Every log line goes to stderr (a stdio backend's stderr lands here too, so its
lines appear in the proxy's log). httpx2 logs each request to an HTTP backend,
health pings included: only at debug level. No level writes a backend's cookie:
httpcore2's debug lines, which quote each backend's response headers, are left
out. Every line has its control characters escaped (the lesson's safe_output.py).

A token belongs in the Authorization header, but someone will paste one into a
URL (`/mcp?access_token=...`; the MCP authorization spec forbids it), and
uvicorn's access log would write it down. No MCP route uses a query string, so
the access log shows `?...` in its place.
"""

import logging

from ..safe_output import configure_logging as configure_safe_logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
    # One stderr handler for the proxy, the SDK and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT, RedactQueryStrings())
    # One line per HTTP request to a backend - health pings included - is for debugging only.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    # At debug level httpcore2, under the client of each HTTP backend, writes the backend's response
    # headers: a Set-Cookie there is the proxy's session with the backend, a secret no log may keep.
    logging.getLogger("httpcore2").setLevel(max(logging.getLogger().level, logging.INFO))
