"""The upstream API, `python -m 03-oauth-mcp.upstream FLAGS`, run inside the test process on a real socket.

As the authorization server's (in_process_auth_server.py): the command itself runs, flags and all
(upstream/__main__.py `cli`: its logging, the verifier, `create_app`), on a thread of this process; only its
last step, `uvicorn.run(app, ...)`, is taken over, to serve that app with exactly the arguments the command
gave (`proxy_headers=False` among them) on a uvicorn server this process can stop. A test of the process
itself starts the real one (`processes.start_process`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from ...upstream import __main__ as upstream_command
from .in_process_server import ServerInThread, command_in_thread, uvicorn_run_taken_over


@contextmanager
def upstream_in_thread(*flags: str, port: int | None = None) -> Iterator[ServerInThread]:
    """`python -m 03-oauth-mcp.upstream --addr 127.0.0.1:<port> FLAGS`, served from a thread; stopped on exit."""
    with command_in_thread(
        "upstream", upstream_command.cli, flags, port, None, uvicorn_run_taken_over(upstream_command)
    ) as server:
        yield server
