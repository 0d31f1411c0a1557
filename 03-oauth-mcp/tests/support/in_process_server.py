"""Lesson 03's server commands run inside the test process on a real socket: `python -m 03-oauth-mcp.server
-t http FLAGS` (or `production.server`) here, and the authorization server's (in_process_auth_server.py).

A test whose subject is what a server answers over HTTP (its tools, its refusals, an attack on its
port), not its process, starts one here: no second of CPU to pay for a process that imports the SDK.
The command itself runs, flags and all (its `cli`: each option checked, the issuer, verifier, token
exchanger and journal made, `create_server` and `create_http_app`, its logging set up), in a thread of
this process; only the uvicorn server it runs is made one this process can stop, with exactly the
config the command gave it. A test of the process itself (its command line, exit codes, shutdown, its
stderr as a process writes it) starts the real one (`processes.start_process`).

What a command changes in this process is put back once it has started: `os.environ` (the `env` a
test gives, read as the server starts) and `sys.stderr`. Its log handler stays on the root logger,
writing to this server's log (`logged()`), and takes only the records this server makes: every
thread serving it (uvicorn's, and the worker threads requests run in) carries the context variable
`SERVING`, naming it. The levels it sets hold while it runs, as in its process (the root's is the
lowest any running server or command asks for; each handler keeps to its own), and are put back
when it stops. A command run in this process meanwhile (in_process_client.py) logs beside the
servers' handlers, and its handlers leave out what the servers' threads log. Each start builds a
new app, with its own state: nothing of one server's is left for the next.
"""

import io
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import typer
import uvicorn

from . import processes
from .waiting import eventually

SERVING: ContextVar[io.StringIO | None] = ContextVar("in_process_server", default=None)
# A command's os.environ, sys.stderr and the root logger are this process's: one start at a time.
STARTING = threading.Lock()
# Given the callback that hands it the command's uvicorn server, takes over the command's last step meanwhile.
TakeOver = Callable[[Callable[[uvicorn.Server], None]], AbstractContextManager[None]]


@dataclass
class ServerInThread:
    base_url: str
    args: list[str]  # the command line it runs, as a process's `args`: ["--addr", HOST:PORT, *flags]
    log: io.StringIO = field(repr=False)

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def logged(self) -> str:
        """Everything the server has logged so far, as its process would have written it to stderr."""
        return self.log.getvalue()


class OnlyThisServer(logging.Filter):
    def __init__(self, log: io.StringIO) -> None:
        super().__init__()
        self.log = log

    def filter(self, record: logging.LogRecord) -> bool:
        return SERVING.get() is self.log


class NoServer(logging.Filter):
    """For a command run in this process: what the servers' threads log is theirs, not the command's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return SERVING.get() is None


def a_servers(handler: logging.Handler) -> bool:
    return any(isinstance(each, OnlyThisServer) for each in handler.filters)


@contextmanager
def configured_beside_the_servers(only: logging.Filter) -> Iterator[None]:
    """While a command runs in this process: the handlers its `logging.basicConfig(force=True)` installs
    take only the records `only` lets through, at the level it asks for, and the running servers'
    handlers stay beside them (force would close them); the root's level lets through what each asks for."""
    original, root = logging.basicConfig, logging.getLogger()

    def beside_the_servers(**kwargs: Any) -> None:
        if not kwargs.get("force"):  # the SDK's, say: a no-op where handlers are set, as in a process
            original(**kwargs)
            return
        servers = [handler for handler in root.handlers if a_servers(handler)]
        for handler in servers:  # taken off for a moment, not closed
            root.removeHandler(handler)
        original(**kwargs)
        for handler in root.handlers:
            handler.addFilter(only)
            handler.setLevel(root.level)
        for handler in servers:
            root.addHandler(handler)
        root.setLevel(min(handler.level for handler in root.handlers))

    logging.basicConfig = beside_the_servers
    try:
        yield
    finally:
        logging.basicConfig = original


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
def command_in_thread(
    program: str,
    cli: typer.Typer,
    flags: tuple[str, ...],
    port: int | None,
    env: dict[str, str] | None,
    take_over: TakeOver,
) -> Iterator[ServerInThread]:
    """`python -m 03-oauth-mcp.<program> --addr 127.0.0.1:<port> FLAGS`, its `cli` run on a thread until the
    uvicorn server it makes (handed over by `take_over`) has started; stopped on exit."""
    port = port or processes.free_port()
    args = ["--addr", f"127.0.0.1:{port}", *flags]
    log = io.StringIO()
    root = logging.getLogger()
    loggers = root.manager.loggerDict.items()
    levels = {name: logger.level for name, logger in loggers if isinstance(logger, logging.Logger)}
    root_level = root.level
    started, serving, failure = threading.Event(), [], []

    def made(server: uvicorn.Server) -> None:
        serving.append(server)
        started.set()

    def command() -> None:
        SERVING.set(log)  # every task and worker thread of this server inherits it
        try:
            typer.main.get_command(cli).main(args, prog_name=program, standalone_mode=False)
        except BaseException as error:  # a usage error or a failed start: the caller reports it
            failure.append(error)
        finally:
            started.set()

    thread = threading.Thread(target=command, name=f"{program} 127.0.0.1:{port}", daemon=True)
    with STARTING:
        others = [handler for handler in root.handlers if not a_servers(handler)]
        for handler in others:  # taken off, not closed: the command's basicConfig(force=True) would close them
            root.removeHandler(handler)
        stderr, sys.stderr = sys.stderr, log  # what the command writes as it starts, and its log handler's stream
        try:
            with environment(env or {}), take_over(made), configured_beside_the_servers(OnlyThisServer(log)):
                thread.start()
                started.wait(processes.STARTUP_DEADLINE)
        finally:
            sys.stderr = stderr
            own = [each for each in root.handlers if any(getattr(f, "log", None) is log for f in each.filters)]
            for handler in others:
                root.addHandler(handler)
    try:
        if failure or not serving:
            raise RuntimeError(f"{program} {' '.join(args)} did not start: {failure!r}\n{log.getvalue()}")
        server = serving[0]
        eventually(lambda: server.started or not thread.is_alive(), processes.STARTUP_DEADLINE, "uvicorn started")
        if not server.started:
            raise RuntimeError(f"{program} {' '.join(args)} stopped while starting:\n{log.getvalue()}")
        yield ServerInThread(f"http://127.0.0.1:{port}", args, log)
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


def uvicorn_run_taken_over(command: types.ModuleType) -> TakeOver:
    """For a command that ends in `uvicorn.run(app, **arguments)` (the authorization server's, the upstream's):
    that call, made on a server with exactly those arguments, handed to this process to stop."""

    @contextmanager
    def taken_over(made: Callable[[uvicorn.Server], None]) -> Iterator[None]:
        def run(app: Any, **arguments: Any) -> None:
            server = uvicorn.Server(uvicorn.Config(app, **arguments))
            made(server)
            server.run()

        command.uvicorn = types.SimpleNamespace(run=run)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            command.uvicorn = uvicorn  # type: ignore[attr-defined]

    return taken_over


@contextmanager
def stream_ending_server_taken_over(made: Callable[[uvicorn.Server], None]) -> Iterator[None]:
    """`run_http` (server/__main__.py) as it is, its `StreamEndingServer` handed to this process to stop."""
    from ...server import __main__ as lesson_server

    stream_ending_server = lesson_server.StreamEndingServer

    class Handed(stream_ending_server):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made(self)

    lesson_server.StreamEndingServer = Handed
    try:
        yield
    finally:
        lesson_server.StreamEndingServer = stream_ending_server


@contextmanager
def mcp_server_in_thread(
    *flags: str, port: int | None = None, env: dict[str, str] | None = None, program: str = "server"
) -> Iterator[ServerInThread]:
    """`python -m 03-oauth-mcp.server --addr 127.0.0.1:<port> FLAGS` (give `-t http`), served from a thread;
    `program="production.server"`: production's, which serves through the same `run_http`."""
    # Imported here: in_process_client.py uses this module's logging part alone, with no server to import.
    if program == "server":
        from ...server.__main__ import cli
    else:
        from ...production.server import cli
    with command_in_thread(program, cli, flags, port, env, stream_ending_server_taken_over) as server:
        yield server
