"""The user's round trip through the browser: out to the authorization page, back to a loopback callback.

The SDK builds the authorization URL and checks what comes back (`state`, `iss`); the application
gets the user there and the answer back. `open_browser` opens only a page a user may be sent to
(https, or http on this machine: the authorization server's metadata names it, and a malicious MCP
server picks the authorization server), never through a shell. `LoopbackCallback`, the registered
redirect URI, waits on 127.0.0.1 for *the* answer: the one carrying this login's `state`. Anything
here can connect to it; what is not that answer costs the login nothing (`client_extras/`).
"""

import logging
import secrets
import sys
import webbrowser

import anyio
import anyio.abc
from mcp.client.auth import OAuthFlowError

from ..addresses import CALLBACK_ADDR, split_addr
from ..client_extras.authorization_url import authorization_url_problem
from ..client_extras.callback_http import answering
from ..safe_output import printable

CALLBACK_PORT = split_addr(CALLBACK_ADDR)[1]
LOGIN_TIMEOUT_SECONDS = 300.0  # how long a person may take to log in

logger = logging.getLogger(__name__)


async def open_browser(url: str, use_browser: bool) -> None:
    """Send the user to the authorization page, if it is one a user may be sent to; else OAuthFlowError."""
    if problem := authorization_url_problem(url):
        # The endpoint, not the parameters the SDK appended: enough to see which page was refused.
        raise OAuthFlowError(f"refusing the authorization page {printable(url.split('?')[0][:200])}: {problem}")
    print(f"Open this URL in a browser to log in and consent:\n  {printable(url)}", file=sys.stderr, flush=True)
    if use_browser:
        webbrowser.open(url)  # never through a shell: the browser gets the URL as one argument


class LoopbackCallback:
    """The redirect URI: a web server on 127.0.0.1 that waits for one authorization response."""

    def __init__(self, port: int, timeout: float = LOGIN_TIMEOUT_SECONDS) -> None:
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

        def respond(params: dict[str, str]) -> tuple[str, str]:
            if not secrets.compare_digest(params.get("state", "").encode(), state.encode()):
                # Not the answer to our request: possibly forged. Keep waiting for the real one.
                logger.warning("ignored a callback request without this login's state")
                return "400 Bad Request", "Not the response this login awaits."
            if not received.is_set():
                answer.update(params)
                received.set()
            return "200 OK", "Authorization received. You can close this."

        # Said while the user is away, so that a login that cannot finish does not look like a hang.
        print(f"Waiting up to {self.timeout:g} s for the browser to come back to {self.redirect_uri}", file=sys.stderr)
        try:
            with anyio.fail_after(self.timeout):
                async with listener, anyio.create_task_group() as group:
                    group.start_soon(listener.serve, answering(respond))
                    await received.wait()
                    group.cancel_scope.cancel()
        except TimeoutError:
            raise OAuthFlowError(
                f"no answer came back to {self.redirect_uri} within {self.timeout:g} s: the login was not finished "
                "in the browser (if the authorization server showed an error there, --force-login registers again)"
            ) from None
        return answer
