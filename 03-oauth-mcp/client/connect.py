"""Where the client finds its server, and how it proves who it acts for.

`mcp.Client` picks the transport from what it is given: `StdioServerParameters`
spawns a process and speaks JSON-RPC over its stdin/stdout; a transport built
by `streamable_http_client` speaks Streamable HTTP. Everything after
`async with Client(...)` is the same for both.

Over HTTP the token now comes from OAuth: the SDK's provider, set as the
httpx2 client's `auth`, answers the server's 401 by running the authorization
flow and attaches the token to every request. A raw `--token` still works
(tokens from elsewhere, such as a client-credentials call), and stdio still
takes its token from the environment.
"""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from .callback import CALLBACK_TIMEOUT_SECONDS, LoopbackCallback
from .narration import Narrator
from .oauth import PreRegisteredClient, build_auth, build_machine_auth
from .token_storage import FileTokenStorage

# This package's parent, e.g. "01-basic-mcp": the client always spawns its own lesson's server.
LESSON = __package__.rpartition(".")[0]
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


class AccessRefused(Exception):
    """The server refused a token given with --token; OAuth is not there to fix it."""


async def refused_token(response: httpx2.Response) -> None:
    """With a raw --token, show the server's challenge, which the SDK would report only as an error code."""
    if response.status_code in (401, 403) and "www-authenticate" in response.headers:
        raise AccessRefused(f"HTTP {response.status_code}, WWW-Authenticate: {response.headers['www-authenticate']}")


@dataclass(frozen=True, kw_only=True)
class OAuthOptions:
    token_file: Path
    callback_port: int
    issuer: str  # the only authorization server a pre-registered client's id and secret may go to
    use_browser: bool = True
    verbose: bool = False
    scope: str | None = None
    client_metadata_url: str | None = None
    client_id: str | None = None  # a pre-registered client; with client_credentials, the machine itself
    client_secret: str | None = None
    client_credentials: bool = False
    login_timeout: float = CALLBACK_TIMEOUT_SECONDS  # how long to wait for the browser to come back


def preregistered_client(oauth: OAuthOptions) -> PreRegisteredClient | None:
    """The client given with --client-id, bound to --issuer: the one server its id and secret may go to."""
    if not oauth.client_id:
        return None
    return PreRegisteredClient(client_id=oauth.client_id, client_secret=oauth.client_secret, issuer=oauth.issuer)


def authentication(url: str, oauth: OAuthOptions) -> httpx2.Auth:
    """A machine logs in with its secret; a user through the browser, the login kept for this resource."""
    if oauth.client_credentials and oauth.client_id and oauth.client_secret:
        return build_machine_auth(
            url, client_id=oauth.client_id, client_secret=oauth.client_secret, issuer=oauth.issuer, scope=oauth.scope
        )
    return build_auth(
        url,
        FileTokenStorage(oauth.token_file, url),
        LoopbackCallback(oauth.callback_port, oauth.login_timeout),
        use_browser=oauth.use_browser,
        client_metadata_url=oauth.client_metadata_url,
        preregistered=preregistered_client(oauth),
        scope=oauth.scope,
    )


def stdio_server(log_level: str, token: str | None) -> StdioServerParameters:
    # The same interpreter and `python -m` an attendee would type, run from the
    # repository root so the lesson package is importable. The SDK gives the
    # child only a minimal environment, so the token is passed explicitly.
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", log_level],
        cwd=REPOSITORY_ROOT,
        env={"API_KEY": token} if token else None,
    )


@asynccontextmanager
async def connect(url: str | None, log_level: str, token: str | None, oauth: OAuthOptions) -> AsyncIterator[Client]:
    """A connected `Client` for the server at `url`, or for a freshly spawned stdio server."""
    if not url:
        async with Client(stdio_server(log_level, token)) as client:
            yield client
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    auth = None if token else authentication(url, oauth)
    hooks = Narrator(url).hooks() if oauth.verbose else {"request": [], "response": []}
    if token:
        hooks["response"].append(refused_token)
    # Headers live on the httpx2 client we own (and so must close); the SDK's
    # own timeouts: 30 s, and 300 s to read, as a server may hold a stream open.
    async with (
        httpx2.AsyncClient(headers=headers, auth=auth, event_hooks=hooks, timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client
