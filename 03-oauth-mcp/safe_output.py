"""What this lesson's processes may write about what they handle: never a usable secret, never raw untrusted text.

Shared by the authorization server, the MCP server and the client, so one rule holds everywhere:

- `mask_token`: enough of a token to recognise it in a log or a tool result, never enough to use it.
- `printable`: text from the network (a client's `client_id`, a server's `error_description`) with
  its control characters escaped, so a `%0a` cannot forge a log line and an ANSI escape cannot
  rewrite the user's terminal.
- `configure_logging`: stderr logging where every message passes through `printable`, and where
  libraries that log credentials at debug level (Authlib logs each issued token and the client
  record) are held at WARNING, whatever `--log-level` says.
"""

import logging
import sys

# Libraries that log secrets below WARNING. Authlib: "Issue token {...} to Client(...)" at DEBUG.
CHATTY_WITH_SECRETS = ("authlib",)


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
    for name in CHATTY_WITH_SECRETS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
