"""The upstream API, `python -m 03-oauth-mcp.upstream FLAGS`, run inside the test process on a real socket.

As the authorization server's (in_process_auth_server.py): the command itself runs, flags and all
(upstream/__main__.py `cli`: its logging, the verifier, `create_app`), on a thread of this process; only its
last step, `uvicorn.run(app, ...)`, is taken over, to serve that app with exactly the arguments the command
gave (`proxy_headers=False` among them) on a uvicorn server this process can stop. A test of the process
itself starts the real one (`processes.start_process`).
"""

import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ...upstream import __main__ as upstream_command
from .in_process_server import ServerInThread, command_in_thread


@contextmanager
def uvicorn_run_taken_over(made: Callable[[uvicorn.Server], None]) -> Iterator[None]:
    """`uvicorn.run(app, **arguments)` as the command calls it, on a server handed to this process to stop."""

    def run(app: Any, **arguments: Any) -> None:
        server = uvicorn.Server(uvicorn.Config(app, **arguments))
        made(server)
        server.run()

    upstream_command.uvicorn = types.SimpleNamespace(run=run)
    try:
        yield
    finally:
        upstream_command.uvicorn = uvicorn


@contextmanager
def upstream_in_thread(*flags: str, port: int | None = None) -> Iterator[ServerInThread]:
    """`python -m 03-oauth-mcp.upstream --addr 127.0.0.1:<port> FLAGS`, served from a thread; stopped on exit."""
    with command_in_thread("upstream", upstream_command.cli, flags, port, None, uvicorn_run_taken_over) as server:
        yield server
