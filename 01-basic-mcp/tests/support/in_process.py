"""The lesson's HTTP server, running inside the test process on a real socket.

A test whose subject is what the server does, not its process (how many streams it holds, and for
how long), starts one here: the app that `python -m 01-basic-mcp.server --transport http` serves,
built and served as `run_http` (server/__main__.py) does, in a uvicorn of its own on a thread, with
no start-up of a process to pay for (a second of CPU and more). A test of the process itself (its
shutdown, its exit code, its log) starts the real one (`processes.start_process`).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Thread
from typing import Any

import uvicorn

from ...server import app, http
from ...server.streams import DEFAULT_LIMITS, StreamEndingServer, StreamLimits
from . import processes
from .waiting import eventually


@contextmanager
def serve_in_thread(
    asgi_app: Any, server_class: Callable[[uvicorn.Config], uvicorn.Server] = uvicorn.Server
) -> Iterator[str]:
    """uvicorn in a thread of this process, on a free port; yields its base URL."""
    port = processes.free_port()
    # As the real server runs (server/__main__.py): uvicorn's default would believe X-Forwarded-For
    # from 127.0.0.1, and stop waiting for open requests only when they end.
    config = uvicorn.Config(
        asgi_app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    server = server_class(config)
    thread = Thread(target=server.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: server.started or not thread.is_alive(), processes.STARTUP_DEADLINE, "uvicorn started")
        assert thread.is_alive(), "in-process server stopped while starting"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class ServerInThread:
    base_url: str

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"


@contextmanager
def mcp_server_in_thread(limits: StreamLimits = DEFAULT_LIMITS) -> Iterator[ServerInThread]:
    """The lesson's MCP server on Streamable HTTP, built and served as `run_http` (server/__main__.py) does."""
    served = http.create_http_app(app.create_server(), limits=limits)
    with serve_in_thread(served, lambda config: StreamEndingServer(config, served.state.streams)) as base_url:
        yield ServerInThread(base_url)
