"""The user's round trip through the browser: out to the authorization page, back to a loopback callback.

The SDK builds the authorization URL and checks what comes back (`state`, `iss`); how the
user gets there and how the answer returns is the application's part:

- `open_browser` sends the user only to a web page that is https (or http on this machine), whose
  address holds nothing a shell would read as a command, never through a shell, and always prints
  the URL; any other page, which a malicious authorization server's metadata may name, is refused
  before anything is printed or opened;
- `LoopbackCallback` is the registered redirect URI: a small web server on 127.0.0.1 that
  waits for *the* authorization response, as long as it says it will. Anything on this machine
  can connect to it, so it answers only a well-formed `GET /callback` carrying the `state` this
  login sent, and shrugs off everything else (a port scan, stray bytes, a forged `error=`
  redirect) without giving up the login in progress.
"""

import logging
import secrets
import string
import sys
import webbrowser
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
from mcp.client.auth import OAuthFlowError

from ..addresses import is_loopback
from ..safe_output import printable

CALLBACK_TIMEOUT_SECONDS = 300.0  # how long a person may take to log in
REQUEST_TIMEOUT_SECONDS = 10.0  # how long one connection may take to send its request
MAX_REQUEST_BYTES = 16 * 1024

# What an authorization URL may hold: RFC 3986's characters, less `$'()*;!`, which a shell reads as more
# than a word (`$(...)`, quotes), and `#` (RFC 6749 §3.1: no fragment). The SDK percent-encodes each
# parameter it appends (`&` and `=` join them), so only a hostile authorization_endpoint holds the others.
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?[]@&=+%,")

logger = logging.getLogger(__name__)


def authorization_url_problem(url: str) -> str | None:
    """Why the user must not be sent to `url`, or None (MCP security best practices, "OAuth
    Authorization URL Validation"): the authorization server's metadata names it, and a malicious
    MCP server chooses the authorization server."""
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


async def open_browser(url: str, use_browser: bool) -> None:
    """Send the user to the authorization page, if it is one a user may be sent to; else OAuthFlowError."""
    if problem := authorization_url_problem(url):
        # The endpoint, not the parameters the SDK appended: enough to see which page was refused.
        raise OAuthFlowError(f"refusing the authorization page {printable(url.split('?')[0][:200])}: {problem}")
    print(f"Open this URL in a browser to log in and consent:\n  {printable(url)}", file=sys.stderr, flush=True)
    # Never through a shell: `webbrowser` runs the browser with the URL as one argument.
    if use_browser:
        webbrowser.open(url)


def response_page(status: str, text: str) -> bytes:
    page = f"<!doctype html><title>{status}</title><p>{text}".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(page)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + page


class LoopbackCallback:
    """The redirect URI: a web server on 127.0.0.1 that waits for one authorization response."""

    def __init__(self, port: int, timeout: float = CALLBACK_TIMEOUT_SECONDS) -> None:
        self.port, self.timeout = port, timeout
        self.redirect_uri = f"http://127.0.0.1:{port}/callback"
        self._listener: anyio.abc.SocketListener | None = None

    async def open(self) -> None:
        """Listen now, before the user is sent out: a quick return must never find the port closed."""
        self._listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)

    async def wait(self, state: str) -> dict[str, str]:
        """The parameters of the first request to /callback that carries `state`."""
        if self._listener is None:
            await self.open()
        listener, self._listener = self._listener, None
        answer: dict[str, str] = {}
        received = anyio.Event()

        async def handle(stream: anyio.abc.SocketStream) -> None:
            async with stream:
                try:
                    with anyio.fail_after(REQUEST_TIMEOUT_SECONDS):
                        params = parse_callback(await read_request_head(stream))
                    if params is None:
                        await stream.send(response_page("404 Not Found", "Nothing here."))
                    elif not secrets.compare_digest(params.get("state", "").encode(), state.encode()):
                        # Not the answer to our request: possibly forged. Keep waiting for the real one.
                        logger.warning("ignored a callback request without this login's state")
                        await stream.send(response_page("400 Bad Request", "Not the response this login awaits."))
                    elif not received.is_set():
                        answer.update(params)
                        received.set()
                        await stream.send(response_page("200 OK", "Authorization received. You can close this."))
                # A peer that connects and closes, sends garbage or stalls costs us one connection, not the login.
                except (OSError, TimeoutError, ValueError, anyio.EndOfStream, anyio.BrokenResourceError) as error:
                    logger.debug("dropped a callback connection: %s", type(error).__name__)

        # Said while the user is away, so that a login that cannot finish does not look like a hang.
        waiting = f"Waiting up to {self.timeout:g} s for the browser to come back to {self.redirect_uri}"
        print(waiting, file=sys.stderr, flush=True)
        try:
            with anyio.fail_after(self.timeout):
                async with listener, anyio.create_task_group() as group:
                    group.start_soon(listener.serve, handle)
                    await received.wait()
                    group.cancel_scope.cancel()
        except TimeoutError:
            raise OAuthFlowError(
                f"no answer came back to {self.redirect_uri} within {self.timeout:g} s: the login was not finished "
                "in the browser (if the authorization server showed an error there, --force-login registers again)"
            ) from None
        return answer


async def read_request_head(stream: anyio.abc.SocketStream) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        if len(head) > MAX_REQUEST_BYTES:
            raise ValueError("request head too large")
        head += await stream.receive()
    return head


def parse_callback(head: bytes) -> dict[str, str] | None:
    """The query parameters of `GET /callback?...`, None for another path; ValueError if malformed."""
    method, target, version = head.split(b"\r\n", 1)[0].decode("ascii").split(" ")
    if method != "GET" or not version.startswith("HTTP/1."):
        raise ValueError("not an HTTP/1.x GET")
    parts = urlsplit(target)
    if parts.path != "/callback":  # a browser also asks for /favicon.ico
        return None
    query = parse_qs(parts.query, strict_parsing=bool(parts.query))
    if any(len(values) != 1 for values in query.values()):
        raise ValueError("a repeated parameter")  # RFC 6749 §3.1: parameters must not repeat
    return {key: values[0] for key, values in query.items()}
