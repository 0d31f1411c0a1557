"""Real processes on real transports: the authorization server, the MCP server and the client are
started with `python -m`, as an attendee would, each on a free loopback port."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import IO, Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

LESSON_DIR = Path(__file__).resolve().parents[1]
LESSON = LESSON_DIR.name  # "03-oauth-mcp", importable with `python -m` from the root
REPOSITORY_ROOT = LESSON_DIR.parent
STARTUP_DEADLINE = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    base_url: str
    log: IO[str]  # the server's stderr: a file, so a chatty server never blocks on a full pipe

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the server logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.logged()

    def logged(self) -> str:
        self.log.seek(0)
        return self.log.read()


def wait_until_healthy(server: RunningServer) -> None:
    """Poll /healthz until it answers, the process dies, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.stop()}")
        try:
            if httpx2.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not healthy after {STARTUP_DEADLINE}s:\n{server.stop()}")


@contextmanager
def start_process(module: str, *extra: str, port: int | None = None) -> Iterator[RunningServer]:
    """`python -m <lesson>.<module> --addr 127.0.0.1:<port> ...`, healthy or an error."""
    port = port or free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"{LESSON}.{module}", "--addr", f"127.0.0.1:{port}", *extra],
            cwd=REPOSITORY_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        server = RunningServer(process, f"http://127.0.0.1:{port}", log)
        try:
            wait_until_healthy(server)
            yield server
        finally:
            server.stop()


@dataclass
class TestIssuer:
    """A stand-in authorization server that only publishes a JWKS and mints tokens for the tests.

    It lets each resource-server test craft exactly the token it needs: expired,
    for another audience, signed with another key, `alg: none`.
    """

    url: str = ""
    kid: str = "test-key-1"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def mint(self, resource: str, subject: str = "alice", scope: str = "journal:read", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": resource,
            "scope": scope,
            "client_id": "test-client",
            "iat": now,
            "exp": now + 300,
            "jti": f"jti-{time.monotonic_ns()}",
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        headers = {"kid": self.kid, "typ": "at+jwt"}
        return jwt.encode(claims, self.key, algorithm="ES256", headers=headers)


@pytest.fixture(scope="module")
def test_issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(issuer.jwks()).encode() if self.path == "/jwks.json" else b"{}"
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        issuer.url = f"http://127.0.0.1:{http.server_address[1]}"
        Thread(target=http.serve_forever, daemon=True).start()
        yield issuer
        http.shutdown()


@pytest.fixture(scope="module")
def resource_server(test_issuer: TestIssuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The MCP server, trusting the test issuer, with a fresh journal."""
    db = tmp_path_factory.mktemp("journal") / "journal.db"
    with start_process("server", "--transport", "http", "--issuer", test_issuer.url, "--db", str(db)) as server:
        yield server


ACCESS_TOKEN_TTL = 4  # seconds: short, so the refresh test waits only a few seconds
HIDDEN_INPUT = re.compile(r"<input[^>]*>", re.I)


@dataclass
class Parties:
    auth: object
    mcp: object
    issuer: str
    mcp_url: str
    introspecting_mcp_url: str  # a second MCP server, verifying tokens by introspection
    access_token_ttl: int = ACCESS_TOKEN_TTL


@pytest.fixture(scope="module")
def parties(allocate_port, tmp_path_factory) -> Iterator[Parties]:
    """The authorization server, and two MCP servers it issues tokens for (JWT and introspection)."""
    state = tmp_path_factory.mktemp("parties")
    auth_port, mcp_port, introspecting_port = allocate_port(), allocate_port(), allocate_port()
    issuer = f"http://127.0.0.1:{auth_port}"
    mcp_url = f"http://127.0.0.1:{mcp_port}/mcp"
    introspecting_url = f"http://127.0.0.1:{introspecting_port}/mcp"
    auth_args = ["--db", str(state / "auth.db"), "--resource", mcp_url, "--resource", introspecting_url]
    auth_args += ["--access-token-ttl", str(ACCESS_TOKEN_TTL)]
    mcp_args = ["--transport", "http", "--issuer", issuer]
    with (
        start_process("auth_server", *auth_args, port=auth_port) as auth,
        start_process("server", *mcp_args, "--db", str(state / "journal.db"), port=mcp_port) as mcp,
        start_process(
            "server", *mcp_args, "--verifier", "introspection", "--db", str(state / "j2.db"), port=introspecting_port
        ),
    ):
        yield Parties(auth, mcp, issuer, mcp_url, introspecting_url)


def consent(authorization_url: str, username: str, password: str, decision: str = "approve") -> str:
    """Be the user: fill in the login-and-consent form, follow the redirect, return where it led."""
    with httpx2.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        fields = {}
        for tag in HIDDEN_INPUT.findall(page.text):
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name and value and 'type="hidden"' in tag:
                fields[name.group(1)] = value.group(1)
        action = re.search(r'<form[^>]*action="([^"]*)"', page.text)
        target = httpx2.URL(authorization_url).join(action.group(1) if action and action.group(1) else "/authorize")
        answer = browser.post(target, data={**fields, "username": username, "password": password, "decision": decision})
        assert answer.status_code in (302, 303), answer.text
        location = answer.headers["location"]
        browser.get(location)  # the browser landing on the client's loopback callback
        return location


@dataclass
class ClientRun:
    returncode: int
    stdout: str
    stderr: str
    consents: list[str] = field(default_factory=list)  # where each consent redirected to


def run_oauth_client(
    parties: Parties,
    token_file: Path,
    *args: str,
    user: tuple[str, str] = ("alice", "wonderland"),
    decision: str = "approve",
    url: str | None = None,
    consenter: Callable[..., str] = consent,
) -> ClientRun:
    """`python -m 03-oauth-mcp.client --no-browser ...`, consenting each time it prints an authorization URL."""
    command = [sys.executable, "-m", f"{LESSON}.client", "--url", url or parties.mcp_url, "--no-browser", "--verbose"]
    command += ["--token-file", str(token_file), "--callback-port", str(free_port()), *args]
    process = subprocess.Popen(
        command,
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    run = ClientRun(0, "", "")
    lines: list[str] = []

    def watch_stderr() -> None:
        for line in process.stderr:
            lines.append(line)
            if match := re.search(r"(http://\S+/authorize\?\S+)", line):
                run.consents.append(consenter(match.group(1), *user, decision=decision))

    watcher = threading.Thread(target=watch_stderr, daemon=True)
    watcher.start()
    run.stdout = process.stdout.read()
    run.returncode = process.wait(timeout=60)
    watcher.join(timeout=10)
    run.stderr = "".join(lines)
    return run


@pytest.fixture
def run_client():
    """Run the OAuth client against `parties`, playing the user: `run_client(parties, token_file, "call", ...)`."""
    return run_oauth_client


@pytest.fixture(scope="session")
def http_consent():
    return consent


@pytest.fixture(scope="session")
def launch():
    """Start a lesson process: `with launch("auth_server", "--db", path, port=9000) as server: ...`."""
    return start_process


@pytest.fixture(scope="session")
def allocate_port():
    return free_port


@pytest.fixture
def run_cli():
    """Run `python -m <lesson>.<module> ...` to completion, capturing its output."""

    def run(
        module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", f"{LESSON}.{module}", *args],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return run


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
