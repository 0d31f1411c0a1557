"""The authorization server, `python -m 03-oauth-mcp.auth_server FLAGS`, run inside the test process on a real socket.

A test whose subject is what the server answers over HTTP (tokens, the consent page, registration, its
throttles, an attack on its port), not its process, starts one here: no second of CPU to pay for a
process that imports the SDK and Authlib. The command itself runs, flags and all (command_line.py
`cli`: each flag checked, `Settings` and `Options` made, wiring.py `create_app`, its logging set up),
in a thread of this process; only its last step, `uvicorn.run(app, ...)`, is taken over, to serve
that app with exactly the arguments the command gave (proxy headers, trusted proxies, log level) on
a uvicorn server this process can stop. A test of the process itself (its command line, exit codes,
shutdown, its stderr as a process writes it) starts the real one (`processes.start_process`).

How a command runs on a thread, what of this process it changes and puts back, and how its log keeps
its own records (the context variable `SERVING`): in_process_server.py, which runs the MCP servers too.
Each start builds a new app, with its own throttles, caches and database: nothing of one server's state
is left for the next.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from ...auth_server.optional import command_line
from .in_process_server import SERVING, ServerInThread, command_in_thread, uvicorn_run_taken_over

__all__ = ["SERVING", "AuthServerInThread", "auth_server_in_thread"]

AuthServerInThread = ServerInThread


@contextmanager
def auth_server_in_thread(
    *flags: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[AuthServerInThread]:
    """`python -m 03-oauth-mcp.auth_server --addr 127.0.0.1:<port> FLAGS`, served from a thread; stopped on exit."""
    with command_in_thread(
        "auth_server", command_line.cli, flags, port, env, uvicorn_run_taken_over(command_line)
    ) as server:
        yield server
