"""Lesson 01's processes, started as an attendee starts them: `python -m 01-basic-mcp.<module>`.

An HTTP server gets a free loopback port and logs to a temporary file (a chatty server never blocks
on a full pipe); it is ready when `/healthz` answers, or the test fails with its log. A stdio server
is not started here: the SDK `Client` spawns it from `stdio_server()`'s parameters.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2

from .waiting import eventually

if TYPE_CHECKING:  # imported in `stdio_server`, for the reason given there
    from mcp import StdioServerParameters

LESSON_DIR = Path(__file__).resolve().parents[2]
LESSON = LESSON_DIR.name  # "01-basic-mcp"
REPOSITORY_ROOT = LESSON_DIR.parent
STARTUP_DEADLINE = 20.0


# Ports for servers, from below the range the kernel gives outgoing connections (Linux 32768-60999,
# macOS 49152-65535). A port from bind(0) is free when asked, but until its server binds it, any
# connection this machine opens may take it as its source port: under the suite's load, one did.
SERVER_PORTS = range(20000, 32768)
_random = random.SystemRandom()  # not `random`, which pytest-randomly seeds alike in every worker and test


def free_port() -> int:
    while True:
        port = _random.choice(SERVER_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:  # in use: try another
                continue
            return port


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    base_url: str
    log_path: Path  # the server's stderr: a file, so a chatty server never blocks on a full pipe

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
        return self.log_path.read_text(errors="replace")


def wait_until_healthy(server: RunningServer) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it exits or the deadline passes."""

    def healthy(http: httpx2.Client) -> bool:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.stop()}")
        try:
            return http.get(f"{server.base_url}/healthz").status_code == 200
        except httpx2.TransportError:
            return False  # not listening yet

    # One client for every poll: each new one costs ~20 ms of CPU (it builds a TLS context).
    with httpx2.Client(timeout=1) as http:
        try:
            eventually(lambda: healthy(http), STARTUP_DEADLINE, f"{server.base_url}/healthz answering 200")
        except AssertionError as error:
            raise RuntimeError(f"{error}\n{server.stop()}") from None


@contextmanager
def start_process(module: str, *extra: str) -> Iterator[RunningServer]:
    """`python -m 01-basic-mcp.<module> --addr 127.0.0.1:<free port> ...`, healthy, stopped on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / f"{module}.log"
        with log_path.open("a") as log:  # append-only: a test may read the file while the server writes it
            process = subprocess.Popen(
                [sys.executable, "-m", f"{LESSON}.{module}", "--addr", f"127.0.0.1:{port}", *extra],
                cwd=REPOSITORY_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
        try:
            wait_until_healthy(server)
            yield server
        finally:
            server.stop()


def stdio_server(*extra: str) -> "StdioServerParameters":
    """What `Client(...)` needs to spawn `python -m 01-basic-mcp.server` over stdio, logging at debug to stderr."""
    # Imported here, not above: pytest's controller process loads this module (conftest.py) but runs
    # no test, and the SDK takes a second of CPU to import.
    from mcp import StdioServerParameters

    return StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", "debug", *extra],
        cwd=REPOSITORY_ROOT,
    )


def run_cli(module: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`python -m 01-basic-mcp.<module> ...` to completion, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", f"{LESSON}.{module}", *args],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},  # usage errors on one line, whatever the terminal
        stdin=subprocess.DEVNULL,
        check=False,
    )
