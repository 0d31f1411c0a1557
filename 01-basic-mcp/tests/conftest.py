"""Real processes on real transports: each server is started with `python -m`, as an attendee would."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2
import pytest
from mcp import StdioServerParameters

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
def server() -> Iterator[RunningServer]:
    """One HTTP server shared by a test module."""
    with start_process("server", "--transport", "http") as running:
        yield running


@pytest.fixture(scope="session")
def http_server():
    """Start a dedicated HTTP server: `with http_server("--flag") as server: ...`."""
    return lambda *extra: start_process("server", "--transport", "http", *extra)


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
