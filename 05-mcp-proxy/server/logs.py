"""Logging: to stderr, with query strings kept out of the access log.

Every log line goes to stderr (a stdio backend's stderr lands here too, so its
lines appear in the proxy's log). The proxy reads tokens from the
Authorization header only, but someone will paste one into a URL
(`/mcp?token=...`): the request is refused, and uvicorn's access log would
still have written the token down. No MCP route uses a query string, so the
access log shows `?...` instead. httpx2 logs each request to an HTTP backend,
health pings included: only at debug level. Every line has its control
characters escaped (the lesson's safe_output.py).
"""

import logging

from ..safe_output import configure_logging as configure_safe_logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactQueryStrings(logging.Filter):
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
