"""What every lesson 01 lab needs on stage: free ports, servers started and stopped, a vulnerable one served, a verdict.

The lab itself is the attacker (and, where it says so, an honest client); the servers run as
processes of their own, as an attendee runs them, on 127.0.0.1. A deliberately vulnerable variant
runs only as its lab starts it, and says what it is on stderr (variant.py); `serve` serves it. Each
half of a lab ends with one line that says how the attack went (`verdict`).
"""

import logging
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse

LESSON = "01-basic-mcp"
ROOT = Path(__file__).resolve().parents[2]
configure_logging = import_module(f"{LESSON}.server.logs").configure_logging
split_addr = import_module(f"{LESSON}.addresses").split_addr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log_path: Path  # the server's stderr

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def logged(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_healthy(self) -> "Server":
        deadline = time.monotonic() + 30
        with httpx2.Client(timeout=1) as http:  # one client for every poll: a new one costs ~20 ms of CPU
            while not healthy(http, self.base_url):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.process.args} did not start: {self.logged()}")
                time.sleep(0.05)
        return self


@contextmanager
def started(module: str, *args: str, max_open_files: int | None = None) -> Iterator[Server]:
    """`python -m MODULE --addr 127.0.0.1:<free port> ...` until the block ends; not yet ready when yielded.

    `max_open_files` runs it as on a small machine (`ulimit -n`): every connection is an open file.
    """
    port = free_port()

    def small_machine() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, max_open_files))

    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "server.log"
        with log_path.open("a") as log:
            argv = [sys.executable, "-m", module, "--addr", f"127.0.0.1:{port}", *args]
            limit = small_machine if max_open_files else None
            process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=limit)
        try:
            yield Server(process, f"http://127.0.0.1:{port}", log_path)
        finally:
            process.terminate()
            process.wait(timeout=15)


@contextmanager
def running(module: str, *args: str, max_open_files: int | None = None) -> Iterator[Server]:
    """`started`, and healthy when yielded."""
    with started(module, *args, max_open_files=max_open_files) as server:
        yield server.wait_until_healthy()


def healthy(http: httpx2.Client, base: str) -> bool:
    try:
        return http.get(f"{base}/healthz").status_code == 200
    except httpx2.TransportError:
        return False


def serve(app: Starlette, addr: str) -> None:
    """Serve a vulnerable variant's SDK app at `addr` (HOST:PORT), with /healthz."""
    host, port = split_addr(addr)
    configure_logging("warning")
    app.add_route("/healthz", lambda request: PlainTextResponse("ok"))
    # No X-Forwarded-For believed from loopback either, as the lesson's server (server/__main__.py).
    uvicorn.run(app, host=host, port=port, log_level=logging.WARNING, log_config=None, proxy_headers=False)


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
