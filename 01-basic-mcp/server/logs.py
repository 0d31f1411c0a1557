"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport. Each line
has its control characters escaped (the lesson's safe_output.py).
"""

from ..safe_output import configure_logging as configure_safe_logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    # One stderr handler for the server, the SDK and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT)
