"""The lesson's HTTP server and echo upstream, running inside the test process on real sockets.

For the finest checks (every span's parent, the link to the HTTP span, each histogram point) the
test reads this process's in-memory telemetry, so the servers run here, each uvicorn in a thread
of its own. Threads share no contextvars, so trace context can only reach the server the way it
would from another process: in the request's `_meta` and `traceparent` header.

A test whose subject is what the server does, not its process, starts one here too: no start-up
of its own to pay for (`mcp_server_in_thread`, with the limits or upstream the test needs).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Thread
from typing import Any

import uvicorn

from ...server import app, http
from ...server.streams import DEFAULT_LIMITS, StreamEndingServer, StreamLimits
from ...upstream import app as upstream
from . import processes
from .waiting import eventually


@contextmanager
def serve_in_thread(
    asgi_app: Any, server_class: Callable[[uvicorn.Config], uvicorn.Server] = uvicorn.Server
) -> Iterator[str]:
    """uvicorn in a thread of this process, on a free port; yields its base URL."""
    port = processes.free_port()
    # proxy_headers=False as the real servers run (server/__main__.py): uvicorn's default would believe
    # X-Forwarded-For from 127.0.0.1, and the spans' client.address would be whatever a request claims.
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_config=None, lifespan="on", proxy_headers=False)
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
def mcp_server_in_thread(
    upstream_url: str = app.DEFAULT_UPSTREAM_URL, limits: StreamLimits = DEFAULT_LIMITS
) -> Iterator[ServerInThread]:
    """The lesson's MCP server on Streamable HTTP, built and served as `run_http` (server/__main__.py) does."""
    served = http.create_http_app(app.create_server(upstream_url), limits=limits)
    with serve_in_thread(served, lambda config: StreamEndingServer(config, served.state.streams)) as base_url:
        yield ServerInThread(base_url)


@dataclass
class InProcess:
    mcp_url: str
    upstream_url: str  # the echo upstream's /anything


@contextmanager
def in_process_servers() -> Iterator[InProcess]:
    """The lesson's echo upstream, and its MCP server on Streamable HTTP calling it."""
    with serve_in_thread(upstream.app) as upstream_base, mcp_server_in_thread(f"{upstream_base}/anything") as mcp:
        yield InProcess(mcp_url=mcp.mcp_url, upstream_url=f"{upstream_base}/anything")
