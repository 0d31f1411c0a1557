"""The user's round trip through the browser: out to the authorization page, back to a loopback callback.

The SDK builds the authorization URL and checks what comes back (`state`,
`iss`); how the user gets there and how the answer returns is the
application's part: `open_browser` opens http(s) URLs only, never through a
shell, and always prints the URL too; `LoopbackCallback` is the registered
redirect URI, a one-shot web server on 127.0.0.1.
"""

import sys
import webbrowser
from urllib.parse import parse_qs, urlsplit

import anyio
from mcp.client.auth import OAuthFlowError
from mcp.shared.auth import AuthorizationCodeResult

CALLBACK_TIMEOUT_SECONDS = 300.0


async def open_browser(url: str, use_browser: bool) -> None:
    """Send the user to the authorization page."""
    print(f"Open this URL in a browser to log in and consent:\n  {url}", file=sys.stderr, flush=True)
    # Only web URLs, and never through a shell: a malicious authorization
    # server could otherwise hand us `file:` or `javascript:` URLs.
    if use_browser and urlsplit(url).scheme in ("http", "https"):
        webbrowser.open(url)


class LoopbackCallback:
    """The redirect URI: a web server on 127.0.0.1 that waits for one authorization response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.redirect_uri = f"http://127.0.0.1:{port}/callback"
        self.expected_issuer: str | None = None  # learnt from the metadata, see check_metadata

    async def wait(self) -> AuthorizationCodeResult:
        params: dict[str, str] = {}
        received = anyio.Event()

        async def handle(stream: anyio.abc.SocketStream) -> None:
            async with stream:
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 16384:
                    request += await stream.receive()
                target = request.split(b" ", 2)[1].decode() if request.count(b" ") >= 2 else "/"
                if urlsplit(target).path != "/callback":  # a browser also asks for /favicon.ico
                    await stream.send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                params.update({key: values[0] for key, values in parse_qs(urlsplit(target).query).items()})
                page = b"<!doctype html><title>Done</title><p>Authorization received. You can close this window."
                await stream.send(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n".encode()
                    + page
                )
                received.set()

        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, handle)
            with anyio.fail_after(CALLBACK_TIMEOUT_SECONDS):
                await received.wait()
            group.cancel_scope.cancel()
        return self.result(params)

    def result(self, params: dict[str, str]) -> AuthorizationCodeResult:
        if "error" in params:
            # RFC 9207: an error from an issuer we did not talk to may be a mix-up
            # attack; do not show an attacker's text as if our server said it.
            if self.expected_issuer and params.get("iss") != self.expected_issuer:
                raise OAuthFlowError("Authorization response from an unexpected issuer: ignored")
            raise OAuthFlowError(f"Authorization refused: {params['error']} {params.get('error_description', '')}")
        # The SDK checks `state` and `iss` against what it sent and discovered.
        return AuthorizationCodeResult(code=params.get("code", ""), state=params.get("state"), iss=params.get("iss"))
