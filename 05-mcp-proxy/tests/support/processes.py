"""Processes started as an attendee starts them: `python -m <lesson>.<module>` from the repository root.

Lesson 05's proxy sits in front of other lessons' servers, so this starts any lesson's HTTP
server by its full module name (`01-basic-mcp.server`, `05-mcp-proxy.server`). Each gets a free
loopback port and logs to a file (a chatty server never blocks on a full pipe); it is ready when
`/healthz` answers, or the test fails with its log.
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
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx2

from .waiting import eventually

LESSON_DIR = Path(__file__).resolve().parents[2]
LESSON = LESSON_DIR.name  # "05-mcp-proxy"
REPOSITORY_ROOT = LESSON_DIR.parent
STARTUP_DEADLINE = 30.0  # a proxy starts its backends before it answers: several Python processes at once


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

    @cached_property
    def http(self) -> httpx2.Client:
        """One keep-alive client for every poll of /healthz: a new one costs ~20 ms of CPU (its TLS context)."""
        return httpx2.Client(base_url=self.base_url, timeout=5)

    def health(self, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get("/healthz", headers=headers).json()

    def logged(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the server logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if "http" in self.__dict__:
            self.http.close()
        return self.logged()


def wait_until_healthy(server: RunningServer) -> None:
    """Poll /healthz until it answers 200; fail with the server's log if it exits or the deadline passes."""

    def healthy() -> bool:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.stop()}")
        try:
            return server.http.get("/healthz", timeout=1).status_code == 200
        except httpx2.TransportError:
            return False  # not listening yet

    try:
        eventually(healthy, STARTUP_DEADLINE, f"{server.base_url}/healthz answering 200")
    except AssertionError as error:
        raise RuntimeError(f"{error}\n{server.stop()}") from None


@contextmanager
def launched(
    module: str, *extra: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """`python -m <module> --addr 127.0.0.1:<port> ...` (any lesson's server), started, stopped on exit."""
    port = port or free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "server.log"
        with log_path.open("a") as log:  # append-only: a test may read the file while the server writes it
            process = subprocess.Popen(
                [sys.executable, "-m", module, "--addr", f"127.0.0.1:{port}", *extra],
                cwd=REPOSITORY_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
                env={**os.environ, **(env or {})},
            )
        server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def start_process(
    module: str, *extra: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """`launched`, and healthy before the test goes on."""
    with launched(module, *extra, port=port, env=env) as server:
        wait_until_healthy(server)
        yield server


def run_cli(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m 05-mcp-proxy.<module> ...` to completion, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", f"{LESSON}.{module}", *args],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", **(env or {})},  # usage errors on one line, whatever the terminal
        stdin=subprocess.DEVNULL,
        check=False,
    )


def processes_with(marker: str) -> list[int]:
    """The ids of running processes whose command line contains `marker` (a backend's `--tag`)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            pass  # it exited while we looked
    return found
