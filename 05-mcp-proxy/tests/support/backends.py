"""The servers lesson 05's proxy sits in front of, as entries of its config's `mcpServers`.

Real ones: lesson 01's server over stdio, and lesson 01's and lesson 02's over Streamable HTTP
(lesson 02's with its echo upstream). Those over HTTP are served from threads of the test process,
as each lesson's own `create_http_app` makes them: the proxy reaches them over a real port, and
their processes are their own lessons' tests' business. Difficult ones: `faulty_backend.py`, a
low-level server built to misbehave (over stdio, or over HTTP from a thread here), two commands
that are not MCP servers at all (one exits at once, one never answers), and one that cannot even
be started.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import faulty_backend, in_process, processes

FAULTY = Path(faulty_backend.__file__)


def lesson_01(**extra: Any) -> dict[str, Any]:
    """Lesson 01's server over stdio."""
    args = ["-m", "01-basic-mcp.server", "--transport", "stdio", "--log-level", "error"]
    return {"command": "python", "args": args, **extra}


def faulty(*flags: str, **extra: Any) -> dict[str, Any]:
    """faulty_backend.py over stdio: `faulty("--page-size", "2", timeout=3)`."""
    return {"command": "python", "args": [str(FAULTY), *flags], **extra}


@contextmanager
def faulty_over_http(page_size: int | None = None, **extra: Any) -> Iterator[dict[str, Any]]:
    """faulty_backend.py's server over Streamable HTTP, served from a thread here: its entry in `mcpServers`.

    For a test about what the proxy does with what a backend says, not about the backend's process:
    it cannot crash, hang up or be killed as a process does (`faulty` can).
    """
    port = processes.free_port()
    with in_process.serve(faulty_backend.http_app(page_size), port):
        yield {"url": f"http://127.0.0.1:{port}/mcp", **extra}


def broken(**extra: Any) -> dict[str, Any]:
    """A command that exits at once, as a broken install would."""
    return {"command": "python", "args": ["-c", "import sys; sys.exit('broken: refusing to start')"], **extra}


def unconfigured(variable: str, **extra: Any) -> dict[str, Any]:
    """A backend whose command line needs an environment variable nobody set: it fails before any process starts."""
    return {"command": "python", "args": [f"${{{variable}}}"], **extra}


def stuck(**extra: Any) -> dict[str, Any]:
    """A process that reads every request and answers none, until the proxy hangs up."""
    return {"command": "python", "args": ["-c", "import sys; sys.stdin.read()"], **extra}


def over_http(url: str, token_variable: str) -> dict[str, Any]:
    """A Streamable HTTP backend whose bearer token the proxy reads from its own environment."""
    return {"type": "streamable-http", "url": url, "headers": {"Authorization": f"Bearer ${{{token_variable}}}"}}


@contextmanager
def lesson_01_over_http(port: int) -> Iterator[str]:
    """Lesson 01's MCP server over Streamable HTTP on `port` (its `create_http_app`), served from a thread here:
    its MCP endpoint. Stopped as the block ends, and started again on the same port by another block: to the
    proxy, a server that restarted."""
    from lesson01.server.app import create_server
    from lesson01.server.http import create_http_app
    from lesson01.server.streams import StreamEndingServer

    app = create_http_app(create_server())
    with in_process.serve(app, port, server_class=in_process.ending_streams(StreamEndingServer, app)):
        yield f"http://127.0.0.1:{port}/mcp"


@contextmanager
def lesson_02(port: int) -> Iterator[str]:
    """Lesson 02's MCP server over Streamable HTTP on `port`, and the echo upstream it calls, each served from
    a thread here: the server's base URL."""
    from lesson02.server.app import create_server
    from lesson02.server.http import create_http_app
    from lesson02.server.streams import StreamEndingServer
    from lesson02.upstream.app import app as upstream

    upstream_port = processes.free_port()
    server = create_http_app(create_server(f"http://127.0.0.1:{upstream_port}/anything"))
    with (
        in_process.serve(upstream, upstream_port),
        in_process.serve(server, port, server_class=in_process.ending_streams(StreamEndingServer, server)),
    ):
        yield f"http://127.0.0.1:{port}"
