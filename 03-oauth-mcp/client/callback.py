"""The user's round trip through the browser: out to the authorization page, back to a loopback callback.

The SDK builds the authorization URL and checks what comes back (`state`, `iss`); the application
gets the user there (`open_browser`) and the answer back (`LoopbackCallback`, the redirect URI).
"""

import secrets
import sys
import webbrowser

import anyio.abc

from ..addresses import CALLBACK_ADDR, split_addr
from ..client_extras.authorization_url import check_authorization_url
from ..client_extras.callback_http import await_answer, listen, unused_port
from ..safe_output import printable

CALLBACK_PORT = split_addr(CALLBACK_ADDR)[1]
LOGIN_TIMEOUT_SECONDS = 300.0  # how long a person may take to log in


async def open_browser(url: str, use_browser: bool) -> None:
    """Send the user to the authorization page, if it is one a user may be sent to; else OAuthFlowError."""
    check_authorization_url(url)  # the issuer's metadata names it, and a malicious MCP server picks the issuer
    print(f"Open this URL in a browser to log in and consent:\n  {printable(url)}", file=sys.stderr, flush=True)
    if use_browser:
        webbrowser.open(url)  # never through a shell: the browser gets the URL as one argument


class LoopbackCallback:
    """The redirect URI: a web server on 127.0.0.1 that waits for one authorization response."""

    def __init__(self, port: int, timeout: float = LOGIN_TIMEOUT_SECONDS) -> None:
        self.port, self.timeout = port or unused_port(), timeout  # 0: a free port, for this login
        self.redirect_uri = f"http://127.0.0.1:{self.port}/callback"
        self._listener: anyio.abc.SocketListener | None = None

    async def open(self) -> None:
        """Listen now, before the user is sent out: a quick return must never find the port closed."""
        self._listener = await listen(self.port, self.redirect_uri)  # OAuthFlowError if another program holds it

    async def wait(self, state: str) -> dict[str, str]:
        """The parameters of the first request to /callback that carries `state`."""
        if self._listener is None:
            await self.open()
        listener, self._listener = self._listener, None

        def carries_state(params: dict[str, str]) -> bool:
            # An answer without it is not to our request, and possibly forged: the wait goes on for the real one.
            return secrets.compare_digest(params.get("state", "").encode(), state.encode())

        return await await_answer(listener, carries_state, self.timeout, self.redirect_uri)
