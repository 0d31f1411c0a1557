"""What every lesson 03 lab needs on stage: free ports, the lesson's processes, a user at a browser, an attacker
replaying what it stole, and a verdict.

The lesson's servers are served from the lab's own process (`serving`, with `authorization_server`
and `mcp_server`, made as their commands make them): the same code, one Python start fewer per
server, which keeps a lab within a few seconds. A deliberately vulnerable variant that is a program
runs as a process of its own (`launched`), only as its lab starts it, and says what it is on stderr
(variant.py). Each half of a lab ends with one line that says how the attack went (`verdict`).

The SDK is imported only where it is used: a lab says what it does before the second that takes.
"""

import base64
import hashlib
import json
import logging
import re
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

LESSON = "03-oauth-mcp"
ROOT = Path(__file__).resolve().parents[2]
USER = ("alice", "wonderland")  # development users the authorization server seeds
USERS = dict([USER, ("bob", "builder")])
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@cache
def tls() -> ssl.SSLContext:
    """One TLS context for every HTTP client of a lab: each new one would read the system's CA file again (~30 ms)."""
    return ssl.create_default_context()


def browser() -> httpx2.Client:
    """A new HTTP client with a cookie jar of its own, as a browser has."""
    return httpx2.Client(follow_redirects=True, timeout=10, verify=tls())


@cache
def http() -> httpx2.Client:
    """The lab's one HTTP client for what is not a browser's (registrations, token requests): kept open."""
    return httpx2.Client(timeout=10, verify=tls())


def bearer(token: str) -> httpx2.AsyncClient:
    """An HTTP client for an MCP client that sends `token`."""
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, verify=tls())


def verdict(got: str | None, blocked_by: str | None = None, how: str | None = None) -> None:
    """The last line of each half of a lab: what the attacker got, or, if nothing, what stopped them and how.

    A vulnerable variant has nothing that stops the attack: if the attacker got nothing there, the lab is broken.
    """
    if got:
        print(f"   ATTACK SUCCEEDED: {got}")
    elif blocked_by and how:
        print(f"   ATTACK BLOCKED by {blocked_by}: {how}")
    else:
        raise RuntimeError("the attack failed against the vulnerable variant: the lab is broken")


class Launched:
    """Processes started, not yet known to be ready: `wait_until_healthy` when the lab needs them."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen, Any, str]] = []  # module, process, its log, its base URL

    def wait_until_healthy(self) -> list[str]:
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx2.Client(timeout=1, verify=tls()) as polls:  # one client for every poll
            for module, process, log, base in self.started:
                while not healthy(polls, base):
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"{module} did not start: {log.read()}")
                    time.sleep(0.05)
        return [base for *_, base in self.started]


@contextmanager
def launched(*launches: tuple[str | int, ...]) -> Iterator[Launched]:
    """Each (module, port, *args) started at once: `python -m MODULE --addr 127.0.0.1:PORT ARGS`, stopped at the end."""
    with ExitStack() as stack:
        started = Launched()
        for module, port, *args in launches:
            log = stack.enter_context(tempfile.TemporaryFile("w+"))
            argv = [sys.executable, "-m", str(module), "--addr", f"127.0.0.1:{port}", *map(str, args)]
            process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
            stack.callback(stop, process)
            started.started.append((str(module), process, log, f"http://127.0.0.1:{port}"))
        yield started


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def healthy(http: httpx2.Client, base: str) -> bool:
    try:
        return http.get(f"{base}/healthz").status_code == 200
    except httpx2.TransportError:
        return False


@contextmanager
def serving(*apps: tuple[Any, int]) -> Iterator[None]:
    """Each (ASGI app, port) served by uvicorn on 127.0.0.1, on a thread of the lab's process, until the block ends."""
    import anyio  # imported only now: the lab has said what it does
    import uvicorn

    # What goes wrong, on stderr; not the SDK's line per request.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    servers = [
        uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", log_config=None, proxy_headers=False))
        for app, port in apps
    ]

    async def serve_all() -> None:
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(server.serve)

    thread = threading.Thread(target=anyio.run, args=(serve_all,), daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not all(server.started for server in servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the lab's servers did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=15)


def authorization_server(
    issuer: str, db: Path, *resources: str, upstreams: tuple[str, ...] = (), **options: Any
) -> Any:
    """The lesson's authorization server, as `python -m 03-oauth-mcp.auth_server --db DB --resource ... --upstream
    ...` makes it; `options`: its optional parts' (optional/wiring.py `Options`)."""
    from importlib import import_module

    Settings = import_module(f"{LESSON}.auth_server.config").Settings
    wiring = import_module(f"{LESSON}.auth_server.optional.wiring")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)  # what goes wrong, on stderr
    named = {"resources": resources} if resources else {}  # else the default, as without --resource
    settings = Settings(issuer=issuer, database=str(db), upstreams=upstreams, **named)
    return wiring.create_app(settings, wiring.Options(**options))


def mcp_server(issuer: str, resource: str, journal: Any = None, tools: Any = None, **upstream_url: str) -> Any:
    """The lesson's MCP server as `python -m 03-oauth-mcp.server -t http --issuer ISSUER [--upstream-url URL]` makes
    it, with a journal in memory unless given one; `tools(mcp, journal)`, if given, adds tools to it."""
    from importlib import import_module

    app = import_module(f"{LESSON}.server.app")
    Issuer = import_module(f"{LESSON}.server.issuer").Issuer
    authorization_server = Issuer(issuer)
    journal = journal if journal is not None else import_module(f"{LESSON}.server.journal").Journal()
    exchanger = import_module(f"{LESSON}.server.exchange").TokenExchanger(authorization_server, *RESOURCE_SERVER)
    mcp = app.create_server(journal, exchanger, **upstream_url)
    if tools is not None:
        tools(mcp, journal)
    verifier = import_module(f"{LESSON}.server.verifier").JWTVerifier(authorization_server, resource)
    return import_module(f"{LESSON}.server.http").create_http_app(mcp, verifier, resource, issuer)


RESOURCE_SERVER = ("journal-mcp-server", "dev-resource-server-secret")  # seeded by the authorization server


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def register(issuer: str, redirect_uri: str, name: str = "A lab's client") -> str:
    """A public client registered at `issuer` for `redirect_uri` (RFC 7591): its client_id."""
    registration = {"client_name": name, "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
    return http().post(f"{issuer}/register", json=registration).json()["client_id"]


def the_user_approves(authorization_url: str, user: str = USER[0], follow: bool = True) -> tuple[str, str]:
    """The user, in a browser: open the page (following any redirect), log in, approve.

    Returns where the server sends the browser back to, which the browser then visits (`follow`)
    as a browser does, whoever listens there; and the consent page, as HTML.
    """
    with browser() as user_agent:
        page = user_agent.get(authorization_url)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        form = {**fields, "username": user, "password": USERS[user], "decision": "approve"}
        answer = user_agent.post(str(page.url.copy_with(query=None)), data=form, follow_redirects=False)
        back = answer.headers["location"]
        if follow:
            with suppress(httpx2.TransportError):  # nobody listens there (any more): a browser shows an error page
                user_agent.get(back)
        return back, page.text


def the_user_logs_in(authorization_url: str) -> str:
    """The user, in a browser: open the page, log in, approve, and come back to the client.

    Returns the scope the page asked for, as the user read it.
    """
    with browser() as user_agent:
        page = user_agent.get(authorization_url)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        asked = " ".join(re.findall(r"\((journal:\w+)\)", page.text))  # what the consent page lists
        form = {**fields, "username": USER[0], "password": USER[1], "decision": "approve"}
        user_agent.post(str(page.url.copy_with(query=None)), data=form)  # ends on the client's callback
        return asked


async def open_in_browser(url: str) -> None:
    """A client's `open_page`: a browser is another program, it goes its own way while the client waits."""
    threading.Thread(target=the_user_logs_in, args=(url,), daemon=True).start()


def authorization_url(issuer: str, client_id: str, redirect_uri: str, resource: str, **params: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "resource": resource}
    return f"{issuer}/authorize?{urlencode({**query, **params})}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def redeem(issuer: str, client_id: str, redirect_uri: str, code: str, **params: str) -> httpx2.Response:
    """POST the code to the token endpoint, as a public client (with `code_verifier=...` if it has one)."""
    form = {"grant_type": "authorization_code", "client_id": client_id, "redirect_uri": redirect_uri, "code": code}
    return http().post(f"{issuer}/token", data={**form, **params})


def user_token(issuer: str, resource: str, user: str, scope: str = "journal:read journal:write") -> str:
    """An access token `user` grants an app of theirs for `resource`: registration, PKCE, consent, code, token."""
    redirect_uri = "http://127.0.0.1:1/callback"  # nothing listens there: the app reads the code from the redirect
    client_id = register(issuer, redirect_uri)
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256", "state": secrets.token_urlsafe(8)}
    url = authorization_url(issuer, client_id, redirect_uri, resource, scope=scope, **pkce)
    code = query_of(the_user_approves(url, user, follow=False)[0])["code"]
    return redeem(issuer, client_id, redirect_uri, code, code_verifier=verifier).json()["access_token"]


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, read as anyone holding it can read them (no signature check: this is not verifying it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@asynccontextmanager
async def session(mcp_url: str, token: str) -> AsyncIterator[Any]:
    """An MCP client of `mcp_url` that sends `token`, as any client would: an `mcp.Client`, open for the block."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with bearer(token) as sender, Client(streamable_http_client(mcp_url, http_client=sender)) as client:
        yield client


@asynccontextmanager
async def signed_in(mcp_url: str, provider: Any) -> AsyncIterator[Any]:
    """An MCP client of `mcp_url` that gets its token as lesson 03's client does: over an HTTP client
    authenticating with `provider` (an SDK OAuth provider), the user logging in when the server asks."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(auth=provider, verify=tls()) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        yield client


async def said(client: Any, tool: str, **arguments: Any) -> Any:
    """What a tool answered: its structured result, or its text; `refused: <why>` for an error."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""
    if result.is_error:
        return f"refused: {text.removeprefix(f'Error executing tool {tool}: ')}"
    structured = result.structured_content or {}
    return structured.get("result", structured) if structured else text


async def whoami(mcp_url: str, token: str) -> dict:
    """Call an MCP server's `whoami` with a stolen token, as any client would."""
    async with session(mcp_url, token) as client:
        return (await client.call_tool("whoami", {})).structured_content or {}
