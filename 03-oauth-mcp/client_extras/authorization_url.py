"""Which authorization pages a user may be sent to: https, or http on this machine, and nothing a shell runs.

Skip on a first read: `client/callback.py` `open_browser` calls `check_authorization_url` before it
prints or opens anything. It matters because the page comes from the authorization server's
metadata, and a malicious MCP server chooses the authorization server (MCP security best practices,
"OAuth Authorization URL Validation"). The SDK's metadata model already refuses `javascript:` and
`file:`; this refuses plain http to another machine, a user name that hides the host, and the
characters a shell reads as more than a word, for a user who pastes the URL into one.
"""

import string
from urllib.parse import urlsplit

from mcp.client.auth import OAuthFlowError

from ..addresses import is_loopback
from ..safe_output import printable

# What an authorization URL may hold: RFC 3986's characters, less `$'()*;!`, which a shell reads as more
# than a word (`$(...)`, quotes), and `#` (RFC 6749 §3.1: no fragment). The SDK percent-encodes each
# parameter it appends (`&` and `=` join them), so only a hostile authorization_endpoint holds the others.
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?[]@&=+%,")


def authorization_url_problem(url: str) -> str | None:
    """Why the user must not be sent to `url`, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        return f"{parts.scheme or 'no'} scheme: only https is opened, or http to 127.0.0.1, ::1 or localhost"
    if not parts.hostname:
        return "no host"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "plain http to another machine: only https is opened, or http to 127.0.0.1, ::1 or localhost"
    if parts.username is not None or parts.password is not None:
        return "a user name before the host, which hides where the page is"
    if odd := sorted(set(url) - URL_CHARACTERS):
        return f"characters no authorization URL needs (a shell reads some as commands): {''.join(odd)!r}"
    return None


def check_authorization_url(url: str) -> None:
    """OAuthFlowError, naming the page and why, unless `url` is one a user may be sent to."""
    if problem := authorization_url_problem(url):
        # The endpoint, not the parameters the SDK appended: enough to see which page was refused.
        raise OAuthFlowError(f"refusing the authorization page {printable(url.split('?')[0][:200])}: {problem}")
