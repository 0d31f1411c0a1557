"""The authorization server, `python -m 03-oauth-mcp.auth_server FLAGS`, run inside the test process on a real socket.

A test whose subject is what the server answers over HTTP (tokens, the consent page, registration, its
throttles, an attack on its port), not its process, starts one here: no second of CPU to pay for a
process that imports the SDK and Authlib. The command itself runs, flags and all (command_line.py
`cli`: each flag checked, `Settings` and `Options` made, wiring.py `create_app`, its logging set up),
in a thread of this process; only its last step, `uvicorn.run(app, ...)`, is taken over, to serve
that app with exactly the arguments the command gave (proxy headers, trusted proxies, log level) on
a uvicorn server this process can stop. A test of the process itself (its command line, exit codes,
shutdown, its stderr as a process writes it) starts the real one (`processes.start_process`).

What the command changes in this process is put back once it has started: `os.environ` (the `env`
a test gives, read as the server starts), `sys.stderr` and the root logger's handlers. Its log
handler stays, writing to this server's log (`logged()`), and takes only the records this server
makes: every thread serving it (uvicorn's, and the worker threads requests run in) carries a
context variable naming it. The levels it sets (the root's, Authlib's, uvicorn's) hold while it
runs, as in its process, and are put back when it stops. Each start builds a new app, with its
own throttles, caches and database: nothing of one server's state is left for the next.
"""

import io
import logging
import os
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import typer
import uvicorn

from ...auth_server.optional import command_line
from . import processes
from .waiting import eventually

SERVING: ContextVar[io.StringIO | None] = ContextVar("in_process_auth_server", default=None)
# The command's uvicorn, os.environ, sys.stderr and the root logger are this process's: one start at a time.
STARTING = threading.Lock()


@dataclass
class AuthServerInThread:
    base_url: str
    args: list[str]  # the command line it runs, as a process's `args`: ["--addr", HOST:PORT, *flags]
    log: io.StringIO = field(repr=False)

    def logged(self) -> str:
        """Everything the server has logged so far, as its process would have written it to stderr."""
        return self.log.getvalue()


class OnlyThisServer(logging.Filter):
    def __init__(self, log: io.StringIO) -> None:
        super().__init__()
        self.log = log

    def filter(self, record: logging.LogRecord) -> bool:
        return SERVING.get() is self.log


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def auth_server_in_thread(
    *flags: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[AuthServerInThread]:
    """`python -m 03-oauth-mcp.auth_server --addr 127.0.0.1:<port> FLAGS`, served from a thread; stopped on exit."""
    port = port or processes.free_port()
    args = ["--addr", f"127.0.0.1:{port}", *flags]
    log = io.StringIO()
    root = logging.getLogger()
    loggers = root.manager.loggerDict.items()
    levels = {name: logger.level for name, logger in loggers if isinstance(logger, logging.Logger)}
    root_level = root.level
    started, serving, failure = threading.Event(), [], []

    def run(app: Any, **arguments: Any) -> None:
        """`uvicorn.run(app, **arguments)` as the command calls it, on a server this process can stop."""
        server = uvicorn.Server(uvicorn.Config(app, **arguments))
        serving.append(server)
        started.set()
        server.run()

    def command() -> None:
        SERVING.set(log)  # every task and worker thread of this server inherits it
        try:
            typer.main.get_command(command_line.cli).main(args, prog_name="auth_server", standalone_mode=False)
        except BaseException as error:  # a usage error or a failed start: the caller reports it
            failure.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=command, name=f"auth_server 127.0.0.1:{port}", daemon=True)
    with STARTING:
        handlers = list(root.handlers)
        for handler in handlers:  # taken off, not closed: the command's basicConfig(force=True) would close them
            root.removeHandler(handler)
        stderr, sys.stderr = sys.stderr, log  # what the command writes as it starts, and its log handler's stream
        command_line.uvicorn = types.SimpleNamespace(run=run)
        try:
            with environment(env or {}):
                thread.start()
                started.wait(processes.STARTUP_DEADLINE)
        finally:
            command_line.uvicorn = uvicorn
            sys.stderr = stderr
            for handler in root.handlers:  # the command's own: this server's records only
                handler.addFilter(OnlyThisServer(log))
            own = list(root.handlers)
            for handler in handlers:
                root.addHandler(handler)
    try:
        if failure or not serving:
            raise RuntimeError(f"auth_server {' '.join(args)} did not start: {failure!r}\n{log.getvalue()}")
        server = serving[0]
        eventually(lambda: server.started or not thread.is_alive(), processes.STARTUP_DEADLINE, "uvicorn started")
        if not server.started:
            raise RuntimeError(f"auth_server {' '.join(args)} stopped while starting:\n{log.getvalue()}")
        yield AuthServerInThread(f"http://127.0.0.1:{port}", args, log)
    finally:
        if serving:
            serving[0].should_exit = True
        thread.join(10)
        for handler in own:
            root.removeHandler(handler)
            handler.close()
        for name, logger in list(root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
        root.setLevel(root_level)
