"""Lesson 03's processes, started as an attendee starts them: `python -m 03-oauth-mcp.<module>`.

Each server gets a free loopback port and logs to a temporary file (a chatty server never blocks
on a full pipe); it is healthy when `/healthz` answers, or the test fails with its log.
"""

import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2

from .waiting import eventually

LESSON_DIR = Path(__file__).resolve().parents[2]
LESSON = LESSON_DIR.name  # "03-oauth-mcp"
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
    log: IO[str]

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


def wait_until_healthy(server: RunningServer, tls_ca: Path | None = None) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it exits or the deadline passes."""

    def healthy(http: httpx2.Client) -> bool:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.stop()}")
        try:
            return http.get(f"{server.base_url}/healthz").status_code == 200
        except httpx2.TransportError:
            return False  # not listening yet

    def answering() -> bool:
        if not tls_ca:
            return healthy(local)
        if not tls_ca.exists():
            return False  # the server writes its CA as it starts
        with httpx2.Client(timeout=1, verify=ssl.create_default_context(cafile=tls_ca)) as trusting:
            return healthy(trusting)

    # One client for every poll: each new one costs ~20 ms of CPU (it builds a TLS context).
    with httpx2.Client(timeout=1) as local:
        try:
            eventually(answering, STARTUP_DEADLINE, f"{server.base_url}/healthz answering 200")
        except AssertionError as error:
            raise RuntimeError(f"{error}\n{server.stop()}") from None


@contextmanager
def start_process(
    module: str, *extra: str, port: int | None = None, env: dict[str, str] | None = None, tls_ca: Path | None = None
) -> Iterator[RunningServer]:
    """`python -m 03-oauth-mcp.<module> --addr 127.0.0.1:<port> ...`, healthy, stopped on exit.

    `tls_ca`: the server speaks https, with a certificate this CA signed (one it makes as it starts).
    """
    port = port or free_port()
    # Append mode: the server's writes always land at the end, even after `logged()` has moved
    # the shared file offset back to the start to read.
    with tempfile.TemporaryFile("a+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"{LESSON}.{module}", "--addr", f"127.0.0.1:{port}", *extra],
            cwd=REPOSITORY_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        server = RunningServer(process, f"{'https' if tls_ca else 'http'}://127.0.0.1:{port}", log)
        try:
            wait_until_healthy(server, tls_ca)
            yield server
        finally:
            server.stop()


def run_cli(
    module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m 03-oauth-mcp.<module> ...` to completion, its output captured."""
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
