"""Command line: `python -m 01-basic-mcp.server [--transport stdio|http] [--addr HOST:PORT]`."""

import contextlib
import logging
import signal
import sys
from typing import Annotated, Literal

import anyio
import typer
import uvicorn

from ..addresses import SERVER_ADDR, is_loopback, parse_addr, split_addr
from .app import create_server
from .logs import configure_logging
from .streams import StreamEndingServer, StreamLimits

logger = logging.getLogger(__package__)  # the package, "<lesson>.server", not "__main__"

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def run_stdio() -> None:
    mcp = create_server()
    # SIGTERM (what process managers send) ends the process like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop quietly, no traceback
        anyio.run(mcp.run_stdio_async)


def run_http(addr: str, log_level: str, limits: StreamLimits) -> None:
    # Imported only now: FastAPI takes ~0.2 s to import, which the stdio server and --help never need.
    from .http import create_http_app

    host, port = split_addr(addr)
    if not is_loopback(host):
        logger.warning("listening on %s: reachable from other machines, with no authentication", host)
    app = create_http_app(create_server(), host=host, limits=limits)
    logger.info("MCP endpoint: http://%s/mcp", addr)
    # uvicorn stops gracefully on SIGINT and SIGTERM: it stops accepting, ends
    # the streams (StreamEndingServer), finishes in-flight requests, then runs the
    # lifespan shutdown. By default it waits as long as requests last: what is
    # still running after 5 s is cancelled.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        timeout_graceful_shutdown=5,
        # uvicorn's default believes X-Forwarded-For from 127.0.0.1, where this server runs: any
        # local process could then pick the client address the log shows. No proxy is trusted here.
        proxy_headers=False,
    )
    server = StreamEndingServer(config, app.state.streams)
    server.run()
    if not server.started:  # it could not listen (the port is taken, say): uvicorn has logged why
        sys.exit(3)  # as uvicorn.run() exits


@cli.command()
def main(
    transport: Annotated[
        Literal["stdio", "http"],
        typer.Option("--transport", "-t", help="stdio for a local host process, http for Streamable HTTP."),
    ] = "stdio",
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on (http only).")] = SERVER_ADDR,
    max_streams: Annotated[
        int, typer.Option(min=1, help="Server-to-client streams open at once (http only); one more gets 503.")
    ] = StreamLimits.max_open,
    stream_timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds before the server ends a stream (http only); the client may open another."),
    ] = StreamLimits.max_seconds,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level; logs go to stderr.")
    ] = "info",
) -> None:
    """Run the lesson 01 MCP server (tools: echo_message, add_numbers)."""
    configure_logging(log_level)
    if transport == "stdio":
        run_stdio()
    else:
        run_http(addr, log_level, StreamLimits(max_open=max_streams, max_seconds=stream_timeout))


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
