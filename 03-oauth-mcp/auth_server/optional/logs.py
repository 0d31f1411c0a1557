"""Optional: logging to stderr, control characters escaped, Authlib held at WARNING (the lesson's safe_output.py),
and credentials taken out of the URLs that uvicorn's access log writes.

A URL's query can carry a credential: GitHub sends its authorization code to
/authorize/github/callback?code=..., and a careless client may put a client_secret or a token in
any URL. So in every log line, a query parameter keeps its value only if it is one of the few this
server expects in a URL and that prove nothing; any other value is written as ****.
"""

import logging
import re

from ...safe_output import configure_logging as configure_safe_logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s %(message)s"

# The /authorize parameters that identify a request but grant nothing (`state` and the PKCE
# challenge are opaque to this server, and left out too: nothing is lost by hiding them).
SHOWN_PARAMETERS = frozenset(
    {"response_type", "client_id", "redirect_uri", "scope", "resource", "code_challenge_method"}
)
QUERY_PARAMETER = re.compile(r"(?<=[?&])([^=&\s\"]+)=([^&\s\"]*)")


def redact_query(text: str) -> str:
    """`text` with the value of every query parameter outside SHOWN_PARAMETERS replaced by ****."""
    return QUERY_PARAMETER.sub(lambda m: m[0] if m[1] in SHOWN_PARAMETERS else f"{m[1]}=****", text)


class RedactQueryCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message and (redacted := redact_query(message)) != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    # One stderr handler for this server, Authlib and uvicorn alike.
    configure_safe_logging(level, LOG_FORMAT, RedactQueryCredentials())
