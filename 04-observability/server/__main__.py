"""Command line: `python -m 04-observability.server [--transport stdio|http] [--addr HOST:PORT] [--otlp-endpoint U]`."""

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlsplit

import anyio
import typer
import uvicorn

from ..addresses import SERVER_ADDR, is_loopback, parse_addr, split_addr
from ..telemetry import configure_telemetry
from .app import DEFAULT_UPSTREAM_URL, SERVER_NAME, SERVER_VERSION, create_server
from .context import auth_token
from .logs import configure_logging
from .streams import StreamEndingServer, StreamLimits

logger = logging.getLogger(__package__)  # the package, "<lesson>.server", not "__main__"

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_endpoint(url: str | None) -> str | None:
    if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise typer.BadParameter(f"{url!r} is not an http(s) URL, for example http://127.0.0.1:4318")
    return url


def run_stdio(upstream_url: str, flush_telemetry: Callable[[], None]) -> None:
    mcp = create_server(upstream_url)
    # A stdio server has one caller, the process that spawned it, and the MCP
    # specification says it takes its credentials from the environment.
    auth_token.set(os.environ.get("API_KEY") or None)
    # SIGTERM (what process managers send) ends the process like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop quietly, no traceback
            anyio.run(mcp.run_stdio_async)
    finally:
        flush_telemetry()  # the spans still queued in the batch processors


def run_http(
    addr: str, log_level: str, upstream_url: str, flush_telemetry: Callable[[], None], limits: StreamLimits
) -> None:
    # Imported only now: FastAPI takes ~0.2 s to import, which the stdio server and --help never need.
    from .http import create_http_app

    host, port = split_addr(addr)
    if not is_loopback(host):
        logger.warning("listening on %s: reachable from other machines, with no authentication", host)
    app = create_http_app(create_server(upstream_url), host=host, flush_telemetry=flush_telemetry, limits=limits)
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
    upstream_url: Annotated[
        str, typer.Option(help="The echo API make_authenticated_request calls (httpbin's /anything shape).")
    ] = DEFAULT_UPSTREAM_URL,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            callback=parse_endpoint,
            help="Export traces, metrics and logs over OTLP/HTTP to this collector, e.g. http://127.0.0.1:4318. "
            "Same as OTEL_EXPORTER_OTLP_ENDPOINT. Default: print traces and metrics to stderr.",
        ),
    ] = None,
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
    """Run the lesson 04 MCP server (tools: echo_message, add_numbers, show_auth_token, make_authenticated_request)."""
    configure_logging(log_level)
    if otlp_endpoint:
        # The flag is the standard variable by another name: the exporters read it from here.
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    try:
        flush_telemetry = configure_telemetry(SERVER_NAME, SERVER_VERSION)
    except ValueError as error:  # an OTEL_*_EXPORTER value we do not know
        raise typer.BadParameter(str(error)) from None
    if transport == "stdio":
        run_stdio(upstream_url, flush_telemetry)
    else:
        limits = StreamLimits(max_open=max_streams, max_seconds=stream_timeout)
        run_http(addr, log_level, upstream_url, flush_telemetry, limits)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
