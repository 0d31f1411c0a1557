"""Real processes on real transports: each server is started with `python -m`, as an attendee would."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import IO
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

LESSON_DIR = Path(__file__).resolve().parents[1]
LESSON = LESSON_DIR.name  # "01-basic-mcp", importable with `python -m` from the root
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
def start_process(module: str, *extra: str) -> Iterator[RunningServer]:
    """`python -m <lesson>.<module> --addr 127.0.0.1:<free port> ...`, healthy or an error."""
    port = free_port()
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


@pytest.fixture(scope="module")
def echo_upstream() -> Iterator[RunningServer]:
    """The lesson's own echo upstream (httpbin's /anything shape)."""
    with start_process("upstream") as running:
        yield running


@pytest.fixture(scope="module")
def server(echo_upstream: RunningServer) -> Iterator[RunningServer]:
    """One HTTP server shared by a test module, calling the echo upstream."""
    with start_process(
        "server", "--transport", "http", "--upstream-url", f"{echo_upstream.base_url}/anything"
    ) as running:
        yield running


@pytest.fixture(scope="session")
def http_server():
    """Start a dedicated HTTP server: `with http_server("--flag") as server: ...`."""
    return lambda *extra: start_process("server", "--transport", "http", *extra)


@dataclass
class RecordingUpstream:
    """An upstream that remembers the Authorization header of every request it gets.

    The MCP server masks the token in what it returns, so only the upstream
    itself can show that the whole token arrived.
    """

    url: str
    authorizations: list[str | None] = field(default_factory=list)


@pytest.fixture(scope="module")
def recording_upstream() -> Iterator[RecordingUpstream]:
    recorder = RecordingUpstream(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.authorizations.append(self.headers.get("Authorization"))
            args = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
            body = json.dumps({"args": args, "headers": dict(self.headers.items())}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        recorder.url = f"http://127.0.0.1:{http.server_address[1]}/anything"
        Thread(target=http.serve_forever, daemon=True).start()
        yield recorder
        http.shutdown()


@pytest.fixture
def stdio_server():
    """Parameters for `Client(...)` to spawn the server over stdio, logging at debug to stderr."""

    def parameters(*extra: str, env: dict[str, str] | None = None) -> StdioServerParameters:
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", "debug", *extra],
            cwd=REPOSITORY_ROOT,
            env=env,
        )

    return parameters


@pytest.fixture
def open_client():
    """Connect the SDK `Client` to a URL or a stdio server, sending `token` the way that transport allows."""

    @asynccontextmanager
    async def connected(target: str | StdioServerParameters, token: str | None = None) -> AsyncIterator[Client]:
        if isinstance(target, StdioServerParameters):
            async with Client(target) as client:
                yield client
            return
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(target, http_client=http)) as client,
        ):
            yield client

    return connected


@pytest.fixture
def run_cli():
    """Run `python -m <lesson>.<module> ...` to completion, capturing its output."""

    def run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", f"{LESSON}.{module}", *args],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            check=False,
        )

    return run


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
