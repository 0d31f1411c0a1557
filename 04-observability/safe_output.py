"""What this lesson's processes may write about what they handle: never a usable secret, never raw untrusted text.

Shared by the server and the client, so one rule holds everywhere:

- `mask_token`: enough of a token to recognise it in a log or a tool result, never enough to use it.
- `printable`: text from the network (a server's tool description, result or error, a client's
  tool argument) with its control characters escaped, so an ANSI escape cannot rewrite the user's
  terminal (or, as OSC 52, write their clipboard) and a newline cannot forge a log line.
- `configure_logging`: stderr logging where every message passes through `printable`, since the
  SDK's own log lines quote what the other side sent.
"""

import logging
import sys


def mask_token(token: str) -> str:
    """At most the first 4 characters and never more than an eighth of the token: nothing of a short one."""
    shown = min(4, len(token) // 8)
    return token[:shown] + "****"


def printable(text: str) -> str:
    """`text` with every non-printable character (newlines, ANSI escapes, NUL, ...) written as its escape."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


class EscapeControlCharacters(logging.Filter):
    """A handler filter: the formatted message of every record, with control characters escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = printable(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True


def configure_logging(level: str, log_format: str, *filters: logging.Filter) -> None:
    """Log to stderr (on stdio, stdout is the protocol) through one handler that escapes every message."""
    # force=True replaces any handler installed before (MCPServer installs one on import).
    logging.basicConfig(level=level.upper(), format=log_format, stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(EscapeControlCharacters())
        for extra in filters:
            handler.addFilter(extra)
