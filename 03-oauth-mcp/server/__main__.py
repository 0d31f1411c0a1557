"""Command line: `python -m 03-oauth-mcp.server [--transport stdio|http] [--addr HOST:PORT]`."""

import contextlib
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
import typer
import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier

from ..addresses import AUTH_SERVER_ADDR, SERVER_ADDR, is_loopback, parse_addr, parse_resource, split_addr
from .app import DEFAULT_UPSTREAM_URL, create_server
from .exchange import TokenExchanger
from .issuer import Issuer
from .journal import Journal
from .logs import configure_logging
from .streams import StreamEndingServer, StreamLimits
from .verifier import JWTVerifier

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__package__)  # the package, "<lesson>.server", not "__main__"

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def run_stdio(mcp: MCPServer, verifier: TokenVerifier) -> None:
    # A stdio server has one caller, the process that spawned it, and the MCP
    # specification says it takes its credentials from the environment.
    async def serve() -> None:
        # The token is still verified, once, and the tools see it as on HTTP.
        if token := os.environ.get("API_KEY"):
            if access := await verifier.verify_token(token):
                auth_context_var.set(AuthenticatedUser(access))
            else:
                logger.error("API_KEY is not a valid access token for this server: the tools will refuse")
        await mcp.run_stdio_async()

    # SIGTERM (what process managers send) ends the process like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: stop quietly, no traceback
        anyio.run(serve)


def run_http(app: "FastAPI", addr: str, log_level: str) -> None:
    host, port = split_addr(addr)
    if not is_loopback(host):
        logger.warning("listening on %s: reachable from other machines", host)
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
    issuer: Annotated[
        str, typer.Option(help="The authorization server whose tokens are accepted, as its metadata names it, exactly.")
    ] = f"http://{AUTH_SERVER_ADDR}",
    resource: Annotated[
        str | None,
        typer.Option(
            callback=parse_resource,
            help="This server's URL as clients use it (behind a proxy, the public one): the audience its tokens "
            "carry. [default: http://ADDR/mcp]",
        ),
    ] = None,
    client_id: Annotated[str, typer.Option(help="This server's client at the issuer, to exchange tokens.")] = (
        "journal-mcp-server"
    ),
    client_secret: Annotated[
        str, typer.Option(envvar="JOURNAL_MCP_SERVER_SECRET", show_default=False, help="Its secret.")
    ] = "dev-resource-server-secret",  # noqa: S107 -- the development default the auth server seeds
    upstream_url: Annotated[
        str, typer.Option(help="The echo API make_authenticated_request calls (httpbin's /anything shape).")
    ] = DEFAULT_UPSTREAM_URL,
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
    """Run the lesson 03 MCP server: a per-user journal that accepts only tokens the issuer minted for it."""
    configure_logging(log_level)
    resource = resource or f"http://{addr}/mcp"  # the audience our tokens must carry
    logger.info("accepting tokens from %s with audience %s", issuer, resource)
    authorization_server = Issuer(issuer)  # its metadata and keys, and one HTTP client to ask it
    verifier = JWTVerifier(authorization_server, resource)
    exchanger = TokenExchanger(authorization_server, client_id, client_secret)
    mcp = create_server(Journal(), exchanger, upstream_url)
    if transport == "stdio":
        run_stdio(mcp, verifier)
    else:
        # Imported only now: FastAPI takes ~0.2 s to import, which the stdio server and --help never need.
        from .http import create_http_app

        limits = StreamLimits(max_open=max_streams, max_seconds=stream_timeout)
        run_http(create_http_app(mcp, verifier, resource, issuer, limits), addr, log_level)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
