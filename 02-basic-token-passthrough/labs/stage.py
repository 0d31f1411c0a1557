"""What every lesson 02 lab needs on stage: free ports, the lesson's processes started and stopped, a verdict.

The lab itself plays the callers; the servers run as processes of their own, as an attendee runs
them, on 127.0.0.1. A deliberately vulnerable variant runs only as its lab starts it, and says
what it is on stderr (variant.py). Each half of a lab ends with one line that says how the attack
went (`verdict`).
"""

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

LESSON = "02-basic-token-passthrough"
ROOT = Path(__file__).resolve().parents[2]


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
def started(module: str, *args: str) -> Iterator[Server]:
    """`python -m MODULE --addr 127.0.0.1:<free port> ...` until the block ends; not yet ready when yielded."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "server.log"
        with log_path.open("a") as log:
            argv = [sys.executable, "-m", module, "--addr", f"127.0.0.1:{port}", *args]
            process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield Server(process, f"http://127.0.0.1:{port}", log_path)
        finally:
            process.terminate()
            process.wait(timeout=15)


def healthy(http: httpx2.Client, base: str) -> bool:
    try:
        return http.get(f"{base}/healthz").status_code == 200
    except httpx2.TransportError:
        return False


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
