"""Several of lesson 03's processes started at the same moment, as replicas start behind a load balancer.

`processes.start_process` starts one server and waits until it is healthy; here every server is
launched first, then all are waited for. That is quicker, and it is the point of some tests:
two replicas starting together on an empty database must not trip over each other (tables,
seeded users, the signing key). Processes that start together share the CPU while they import,
so they get a longer deadline than one alone.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2

from . import processes
from .waiting import eventually

STARTUP_DEADLINE = 60.0  # for all of them together, on a busy machine


@dataclass(frozen=True)
class Launch:
    """`python -m 03-oauth-mcp.<module> --addr 127.0.0.1:<port> <args>`."""

    module: str
    args: tuple[str, ...]
    port: int = field(default_factory=processes.free_port)
    env: dict[str, str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def started_together(*launches: Launch) -> Iterator[list[Any]]:
    """Every launch running and healthy (processes.RunningServer each, in order), all stopped on exit."""
    with ExitStack() as stack:
        servers = []
        for launch in launches:
            log = stack.enter_context(tempfile.TemporaryFile("a+"))  # append: see processes.start_process
            command = [
                sys.executable,
                "-m",
                f"{processes.LESSON}.{launch.module}",
                "--addr",
                f"127.0.0.1:{launch.port}",
            ]
            process = subprocess.Popen(
                [*command, *launch.args],
                cwd=processes.REPOSITORY_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
                env={**os.environ, **(launch.env or {})},
            )
            server = processes.RunningServer(process, launch.base_url, log)
            stack.callback(server.stop)
            servers.append(server)

        def all_healthy() -> bool:
            for server in servers:
                if server.process.poll() is not None:
                    raise RuntimeError(f"{server.base_url} exited with {server.process.returncode}:\n{server.stop()}")
            return all(answers(http, server.base_url) for server in servers)

        with httpx2.Client(timeout=1) as http:  # one client for every poll: a new one costs ~20 ms of CPU
            eventually(all_healthy, STARTUP_DEADLINE, "every replica answering /healthz")
        yield servers


def answers(http: httpx2.Client, base_url: str) -> bool:
    try:
        return http.get(f"{base_url}/healthz").status_code == 200
    except httpx2.TransportError:
        return False  # not listening yet
