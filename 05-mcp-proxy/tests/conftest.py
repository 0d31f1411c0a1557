"""Real processes on real transports: the proxy and its backends start as an attendee starts them.

The proxy runs with `python -m 05-mcp-proxy.server --config <a config written
for the test>`; its backends are lesson 01's server over stdio, lesson 02's
over Streamable HTTP, and `backends/faulty.py`, a backend built to misbehave.
Short health intervals and backoffs keep recovery tests fast; every wait polls
a condition with a deadline, never a fixed sleep.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LESSON_DIR = Path(__file__).resolve().parents[1]
LESSON = LESSON_DIR.name  # "05-mcp-proxy", importable with `python -m` from the root
REPOSITORY_ROOT = LESSON_DIR.parent
FAULTY = LESSON_DIR / "tests" / "backends" / "faulty.py"
STARTUP_DEADLINE = 30.0

# Fast settings for tests: a lost backend is noticed and retried within a second.
FAST = {"healthInterval": 0.3, "timeout": 5, "reconnect": {"initialDelay": 0.1, "maxDelay": 0.5}}


def basic_backend() -> dict[str, Any]:
    """Lesson 01's server over stdio."""
    return {"command": "python", "args": ["-m", "01-basic-mcp.server", "--transport", "stdio", "--log-level", "error"]}


def faulty_backend(*flags: str, **extra: Any) -> dict[str, Any]:
    return {"command": "python", "args": [str(FAULTY), *flags], **extra}


def broken_backend(**extra: Any) -> dict[str, Any]:
    """A command that exits at once, as a broken install would."""
    return {"command": "python", "args": ["-c", "import sys; sys.exit('broken: refusing to start')"], **extra}


def stuck_backend(**extra: Any) -> dict[str, Any]:
    """A process that reads every request and answers none, until the proxy hangs up."""
    return {"command": "python", "args": ["-c", "import sys; sys.stdin.read()"], **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    base_url: str
    log: IO[str]  # the server's stderr: a file, so a chatty server never blocks on a full pipe
    config_path: Path | None = None
    pins_path: Path | None = None

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def health(self, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.get(f"{self.base_url}/healthz", headers=headers, timeout=5).json()

    def logged(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the server logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.logged()


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
def launched(module: str, *extra: str, env: dict[str, str] | None = None, port: int | None = None):
    """`python -m <module> --addr 127.0.0.1:<port> ...`, started but not yet waited for."""
    port = port or free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--addr", f"127.0.0.1:{port}", *extra],
            cwd=REPOSITORY_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        server = RunningServer(process, f"http://127.0.0.1:{port}", log)
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def start_process(module: str, *extra: str, env: dict[str, str] | None = None, port: int | None = None):
    """`python -m <module> --addr 127.0.0.1:<port> ...`, healthy or an error."""
    with launched(module, *extra, env=env, port=port) as server:
        wait_until_healthy(server)
        yield server


@pytest.fixture
def spawn():
    """`with spawn("01-basic-mcp.server", "--transport", "http", port=...) as server:` any lesson's HTTP server."""
    return start_process


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def start_proxy(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """`with start_proxy({"name": backend, ...}, pageSize=2) as proxy:` with the fast test options."""
    return make_proxy_starter(tmp_path_factory)


def make_proxy_starter(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    @contextmanager
    def start(
        servers: dict[str, Any], *, env: dict[str, str] | None = None, log_level: str = "info", **options: Any
    ) -> Iterator[RunningServer]:
        folder = tmp_path_factory.mktemp("proxy")
        config_path = folder / "config.json"
        config_path.write_text(json.dumps({"mcpProxy": {"options": {**FAST, **options}}, "mcpServers": servers}))
        pins_path = folder / "pins.json"
        extra = ("--config", str(config_path), "--pins", str(pins_path), "--log-level", log_level)
        with start_process(f"{LESSON}.server", *extra, env=env) as proxy:
            proxy.config_path, proxy.pins_path = config_path, pins_path
            yield proxy

    return start


@pytest.fixture(scope="session")
def start_proxy_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    return make_proxy_starter(tmp_path_factory)


@pytest.fixture(scope="session")
def lesson_02(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Lesson 02's echo upstream and its MCP server over Streamable HTTP, started side by side."""
    with launched("02-basic-token-passthrough.upstream") as upstream:
        upstream_url = f"{upstream.base_url}/anything"
        with launched(
            "02-basic-token-passthrough.server", "--transport", "http", "--upstream-url", upstream_url
        ) as server:
            wait_until_healthy(upstream)
            wait_until_healthy(server)
            yield server


@pytest.fixture(scope="session")
def lesson_02_backend(lesson_02: RunningServer) -> dict[str, Any]:
    """Lesson 02 as a backend, its token taken from the proxy's environment."""
    return {"type": "streamable-http", "url": lesson_02.mcp_url, "headers": {"Authorization": "Bearer ${L02_TOKEN}"}}


@pytest.fixture(scope="session")
def aggregate(start_proxy_once, lesson_02_backend) -> Iterator[RunningServer]:
    """One proxy for the tests that do not break it: lesson 01, lesson 02 and a paging faulty backend."""
    servers = {
        "basic": basic_backend(),
        "passthrough": lesson_02_backend,
        "faulty": faulty_backend(
            "--page-size", "2", options={"toolFilter": {"mode": "block", "list": ["delete_*"]}}, timeout=3
        ),
    }
    with start_proxy_once(servers, env={"L02_TOKEN": "backend-token-for-lesson-02"}, pageSize=4) as proxy:
        yield proxy


FRONT_TOKEN = "front-door-token-0001"
FAULTY_ONLY_TOKEN = "faulty-only-token-0002"


@pytest.fixture(scope="session")
def guarded(start_proxy_once) -> Iterator[RunningServer]:
    """A proxy with front-door tokens: the proxy's own, and a backend with tokens of its own."""
    servers = {
        "basic": basic_backend(),
        # Its own tokens replace the proxy's (TBXark's rule). It never starts: that is fine here.
        "faulty": broken_backend(options={"authTokens": [FAULTY_ONLY_TOKEN]}),
    }
    with start_proxy_once(servers, env={"FRONT_TOKEN": FRONT_TOKEN}, authTokens=["${FRONT_TOKEN}"]) as proxy:
        yield proxy


@pytest.fixture
def open_client():
    """Connect the SDK `Client` to a URL, sending `token` as a bearer header."""

    @asynccontextmanager
    async def connected(url: str, token: str | None = None, **options: Any) -> AsyncIterator[Client]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(url, http_client=http), **options) as client,
        ):
            yield client

    return connected


@pytest.fixture
def eventually():
    """Poll `condition()` until it is truthy or `timeout` passes; returns its last value."""

    def wait(condition: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                assert value, message or "condition never became true"
                return value
            time.sleep(0.05)

    return wait


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


@pytest.fixture
def backends() -> Any:
    """The backend configs tests build proxies from: `backends.basic()`, `backends.faulty("--page-size", "2")`."""

    class Backends:
        basic = staticmethod(basic_backend)
        faulty = staticmethod(faulty_backend)
        broken = staticmethod(broken_backend)
        stuck = staticmethod(stuck_backend)

    return Backends
