"""The lesson's own objects, run in the test's process where a process of their own is not what a test checks.

A process costs its start-up, about a second of CPU to import the SDK, FastAPI and uvicorn; the test
process has imported them already. So where a test is about what the proxy does, not about how its
process starts, stops or logs, it serves the very app `python -m 05-mcp-proxy.server` serves
(`create_http_app`, with uvicorn) on a thread of its own, on a real loopback port (`serve`); and where
a test reads what a good command prints, it runs the command's typer `cli` with typer's `CliRunner`
(`invoke`). What a process alone shows keeps its process (`processes.py`): exit codes and error
messages, signals, shutdown, and everything about the proxy's log as its command line sets it up.
"""

import contextvars
import logging
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import typer
import uvicorn
from mcp.shared.exceptions import MCPDeprecationWarning
from typer.testing import CliRunner

from ...server import http

SERVING: contextvars.ContextVar[object] = contextvars.ContextVar("serving")  # which server a log record is from
STARTUP_DEADLINE = 30.0


class ItsOwnRecords(logging.Filter):
    """Only the records of one server on a thread here: those of its tasks, whose context it tagged."""

    def __init__(self, tag: object) -> None:
        super().__init__()
        self.tag = tag

    def filter(self, record: logging.LogRecord) -> bool:
        return SERVING.get(None) is self.tag


@contextmanager
def logging_to(log_path: Path, level: str, logger_name: str) -> Iterator[object]:
    """What one server on a thread here logs under `logger_name` (its own code's loggers), at `level`, in `log_path`.

    Those records go to the servers' own logs only, not up to the root logger: a command run here
    (`invoke`) sets the root's handler to its stderr, as its process does, and must not find a
    server's lines there. The tag this yields marks the server's records: set it in the server's
    thread before its event loop starts, and every task of that loop carries it.
    """
    tag = object()
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(ItsOwnRecords(tag))
    logger = logging.getLogger(logger_name)
    logger.propagate = False
    if logger.getEffectiveLevel() > logging.getLevelName(level.upper()):
        logger.setLevel(level.upper())
    logger.addHandler(handler)
    try:
        yield tag
    finally:
        logger.removeHandler(handler)
        handler.close()


@contextmanager
def serve(
    app: Any,
    port: int,
    *,
    server_class: Callable[[uvicorn.Config], uvicorn.Server] = uvicorn.Server,
    tag: object = None,
) -> Iterator[uvicorn.Server]:
    """uvicorn serving `app` on 127.0.0.1:`port` from a thread of this process, started; stopped on exit.

    The same settings as the lessons' `__main__.py` give theirs (no proxy headers believed, a 5 s
    grace period), but uvicorn's loggers left as they are (this process's, shared by every server
    here): no access lines. The thread runs the server's lifespan too: a proxy starts its backends there.
    """
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level=None,
        log_config=None,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )
    server = server_class(config)

    def run() -> None:
        SERVING.set(tag)  # copied into the event loop's every task: their log records say whose they are
        server.run()

    thread = threading.Thread(target=run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=15)
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def ending_streams(server_class: Any, app: Any) -> Callable[[uvicorn.Config], uvicorn.Server]:
    """A lesson's `StreamEndingServer` for its `app`, as its `__main__.py` makes it: it ends the app's open
    streams as it stops, where plain uvicorn would wait out its grace period for them."""
    return lambda config: server_class(config, app.state.streams)


# A signal reaches a process's main thread only; the proxy's lifespan listens for SIGHUP (http.py), which a
# server on another thread cannot: there it waits for nothing instead. test_resilience.py's SIGHUP test
# runs the real process.
_reload_on_sighup = http.reload_on_sighup


async def reload_on_sighup(proxy: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        await _reload_on_sighup(proxy)
    else:
        await anyio.sleep_forever()


http.reload_on_sighup = reload_on_sighup


def ignore_the_proxys_deprecation_warnings() -> None:
    """As the proxy's process does (server/__main__.py): it speaks the handshake era to its backends, and the
    SDK warns that ping and logging are gone in the 2026-07-28 era. For the proxy's own modules here, and the
    faulty backend's, whose stdio process would write them to its stderr; from every thread, at any time."""
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning, module=r"05-mcp-proxy\.(server|tests\.support)\.")


def invoke(cli: typer.Typer, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m ... ARGS`, run in this process with typer's `CliRunner`: what `processes.run_cli` returns.

    A command sets up logging as its process would (`basicConfig(force=True)`: the root logger's handlers
    replaced, and closed); this process's handlers are taken off first, and put back once it is done.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    for handler in handlers:
        root.removeHandler(handler)
    try:
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        for handler in root.handlers[:]:  # the command's own, writing to the runner's stderr
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    # As a process writes them: bytes decoded, line endings as they are (a carriage return stays one).
    return subprocess.CompletedProcess(
        list(args), result.exit_code, result.stdout_bytes.decode(), result.stderr_bytes.decode()
    )
