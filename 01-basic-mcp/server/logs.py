"""Logging for both transports.

In stdio mode stdout *is* the protocol: one stray print corrupts the JSON-RPC
stream. So every log line goes to stderr, whatever the transport.
"""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    # force=True replaces the handler MCPServer installs on import, so the
    # server, the SDK and uvicorn all log through this one stderr handler.
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr, force=True)
