"""The loopback callback's HTTP, read within bounds: how the client waits for the browser without being knocked over.

Skip on a first read: `client/callback.py` `LoopbackCallback` decides which answer is the one it
awaits; this serves the requests until it comes (`await_answer`), or the user's time is up. Anything
on this machine can connect to the redirect URI while the client waits: a port scan, stray bytes,
half a request left hanging. Each connection gets `REQUEST_TIMEOUT_SECONDS` and `MAX_REQUEST_BYTES`
to send a well-formed `GET /callback?...` (other paths get a 404, as a browser's `/favicon.ico`
does); whatever else it does costs one connection, never the login in progress.

And anything on this machine can listen on the port first, to catch the code (docs/security.md,
"Localhost redirect URI impersonation"). The client listens before the user is sent out (`listen`):
a port another program holds stops the login there, with the reason. `--callback-port 0` takes a
port no one can know in advance (`unused_port`), a new one for each login.
"""

import errno
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc
from mcp.client.auth import OAuthFlowError

REQUEST_TIMEOUT_SECONDS = 10.0  # how long one connection may take to send its request
MAX_REQUEST_BYTES = 16 * 1024

logger = logging.getLogger(__name__)


def unused_port() -> int:
    """A port free on 127.0.0.1 now, chosen by the system. Another program would have to guess it, and take it in
    the moment before the client listens on it; then `listen` stops the login, and nothing is caught."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def listen(port: int, redirect_uri: str) -> anyio.abc.SocketListener:
    """Listen for the redirect on 127.0.0.1:`port`; OAuthFlowError, before the user is sent anywhere, if another
    program holds the port: whatever listens there would receive the authorization code."""
    try:
        return await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise OAuthFlowError(
            f"another program holds the port of {redirect_uri}, where the browser would bring the authorization code: "
            "not sending you to log in (--callback-port 0 takes a free port)"
        ) from None


async def await_answer(
    listener: anyio.abc.SocketListener, awaited: Callable[[dict[str, str]], bool], timeout: float, redirect_uri: str
) -> dict[str, str]:
    """The parameters of the first `GET /callback` on `listener` that are `awaited`; every other request
    to /callback gets a 400. OAuthFlowError if none came within `timeout` seconds."""
    answer: dict[str, str] = {}
    received = anyio.Event()

    def respond(params: dict[str, str]) -> tuple[str, str]:
        if not awaited(params):
            logger.warning("ignored a callback request without this login's state")
            return "400 Bad Request", "Not the response this login awaits."
        if not received.is_set():
            answer.update(params)
            received.set()
        return "200 OK", "Authorization received. You can close this."

    # Said while the user is away, so that a login that cannot finish does not look like a hang.
    print(f"Waiting up to {timeout:g} s for the browser to come back to {redirect_uri}", file=sys.stderr)
    try:
        with anyio.fail_after(timeout):
            async with listener, anyio.create_task_group() as group:
                group.start_soon(listener.serve, answering(respond))
                await received.wait()
                group.cancel_scope.cancel()
    except TimeoutError:
        raise OAuthFlowError(
            f"no answer came back to {redirect_uri} within {timeout:g} s: the login was not finished "
            "in the browser (if the authorization server showed an error there, --force-login registers again)"
        ) from None
    return answer


def answering(
    respond: Callable[[dict[str, str]], tuple[str, str]],
) -> Callable[[anyio.abc.SocketStream], Awaitable[None]]:
    """A handler for `listener.serve`: each `GET /callback` answered with the status and text `respond` gives."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                with anyio.fail_after(REQUEST_TIMEOUT_SECONDS):
                    params = parse_callback(await read_request_head(stream))
                    status, text = ("404 Not Found", "Nothing here.") if params is None else respond(params)
                    await stream.send(response_page(status, text))
            # A peer that connects and closes, sends garbage or stalls costs us one connection, not the login.
            except (OSError, TimeoutError, ValueError, anyio.EndOfStream, anyio.BrokenResourceError) as error:
                logger.debug("dropped a callback connection: %s", type(error).__name__)

    return handle


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


def response_page(status: str, text: str) -> bytes:
    page = f"<!doctype html><title>{status}</title><p>{text}".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(page)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + page
