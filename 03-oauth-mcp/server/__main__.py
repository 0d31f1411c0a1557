"""Command line: `python -m 03-oauth-mcp.server [--transport stdio|http] [--addr HOST:PORT] [--issuer URL] ...`."""

import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import anyio
import typer
import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from sqlalchemy.exc import OperationalError

from ..addresses import is_loopback, parse_addr, split_addr
from ..database import check_db, describe
from .app import DEFAULT_UPSTREAM_URL, Upstream, create_server
from .discovery import IssuerMetadata
from .exchange import TokenExchanger
from .http import create_http_app
from .journal import Journal
from .logs import configure_logging
from .streams import StreamEndingServer, StreamLimits
from .verifier import INTROSPECTION_CACHE_SECONDS, IntrospectionVerifier, JWTVerifier

DEFAULT_DB = Path.home() / ".local" / "state" / "mcp-workshop" / "journal.db"

logger = logging.getLogger(__package__)  # the package, e.g. "01-basic-mcp.server", not "__main__"

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def run_stdio(mcp: MCPServer, verifier: TokenVerifier) -> None:
    async def serve() -> None:
        # A stdio server has one caller, the process that spawned it, and the MCP
        # specification says it takes its credentials from the environment. The
        # token is still verified, once, and the tools see it as on HTTP.
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


def parse_db(db: str) -> str:
    try:
        return check_db(db)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def parse_resource(resource: str | None) -> str | None:
    """The canonical resource URL (RFC 8707 §2): absolute http(s), lowercase host, no fragment."""
    if resource is None:
        return None
    parts = urlsplit(resource)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.query:
        raise typer.BadParameter(f"{resource!r} is not an absolute http(s) URL without query or fragment")
    if parts.netloc != parts.netloc.lower() or resource.endswith("/"):
        raise typer.BadParameter(f"{resource!r} is not canonical: lowercase the host and drop the trailing slash")
    return resource


def run_http(
    mcp: MCPServer,
    addr: str,
    log_level: str,
    verifier: TokenVerifier,
    issuer: str,
    resource: str,
    stateless: bool,
    limits: StreamLimits,
) -> None:
    host, port = split_addr(addr)
    if not is_loopback(host):
        logger.warning("listening on %s: reachable from other machines", host)
    app = create_http_app(mcp, verifier, resource, issuer, stateless=stateless, limits=limits)
    logger.info("MCP endpoint: http://%s/mcp, for tokens with audience %s from %s", addr, resource, issuer)
    if stateless:
        logger.info("stateless: no MCP sessions, any replica answers any request")
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
    addr: Annotated[
        str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on (http only).")
    ] = "127.0.0.1:8095",
    issuer: Annotated[
        str,
        typer.Option(
            help="The authorization server whose tokens this server accepts, exactly as its metadata names it "
            "(a trailing slash counts)."
        ),
    ] = "http://127.0.0.1:9000",
    resource: Annotated[
        str | None,
        typer.Option(
            callback=parse_resource,
            show_default=False,
            help="This server's canonical URL as clients use it, the audience its tokens must carry, "
            "e.g. the public https URL behind a reverse proxy. [default: http://ADDR/mcp]",
        ),
    ] = None,
    verifier: Annotated[
        Literal["jwt", "introspection"],
        typer.Option(help="jwt: check signatures locally with the issuer's JWKS; introspection: ask the issuer."),
    ] = "jwt",
    introspection_cache: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="Seconds an introspection answer is reused: how late a revocation may count (0: ask every time).",
        ),
    ] = INTROSPECTION_CACHE_SECONDS,
    client_id: Annotated[
        str, typer.Option(help="This server's client id at the issuer, for introspection and token exchange.")
    ] = "journal-mcp-server",
    client_secret: Annotated[
        str,
        typer.Option(
            envvar="JOURNAL_MCP_SERVER_SECRET", show_default=False, help="Its secret (env JOURNAL_MCP_SERVER_SECRET)."
        ),
    ] = "dev-resource-server-secret",  # noqa: S107 -- the development default the auth server seeds
    db: Annotated[
        str,
        typer.Option(
            callback=parse_db,
            metavar="PATH|URL",
            help="The journal: a SQLite file, or a database URL that replicas share, postgresql+psycopg://USER@HOST/DB.",
        ),
    ] = str(DEFAULT_DB),
    upstream_url: Annotated[
        str,
        typer.Option(
            help="The upstream API make_authenticated_request calls, with a token exchanged for it (RFC 8693).",
        ),
    ] = DEFAULT_UPSTREAM_URL,
    max_streams: Annotated[
        int, typer.Option(min=1, help="Server-to-client streams open at once (http only); one more gets 503.")
    ] = StreamLimits.max_open,
    stream_timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds before the server ends a stream (http only); the client may open another."),
    ] = StreamLimits.max_seconds,
    stateless: Annotated[
        bool,
        typer.Option(
            help="No MCP sessions (http): every request stands alone, so replicas need no session affinity, "
            "at the price of server-to-client requests and streams (docs/production.md).",
        ),
    ] = False,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level; logs go to stderr.")
    ] = "info",
) -> None:
    """Run the lesson 03 MCP server: a per-user journal that accepts only tokens the issuer minted for it."""
    configure_logging(log_level)
    resource = resource or f"http://{addr}/mcp"  # the audience our tokens must carry
    metadata = IssuerMetadata(issuer)  # where the keys and the introspection endpoint are
    token_verifier: TokenVerifier = (
        JWTVerifier(metadata, resource)
        if verifier == "jwt"
        else IntrospectionVerifier(metadata, resource, client_id, client_secret, introspection_cache)
    )
    try:
        journal = Journal(db)
    except PermissionError as error:
        raise typer.BadParameter(str(error), param_hint="--db") from None
    except OperationalError as error:  # no database server there, or it refused us
        raise typer.BadParameter(f"cannot open {describe(db)}: {error.orig}", param_hint="--db") from None
    # The upstream's tokens are issued for the API itself, its origin (upstream/__main__.py).
    parts = urlsplit(upstream_url)
    exchanger = TokenExchanger(metadata, client_id, client_secret)
    mcp = create_server(journal, Upstream(upstream_url, f"{parts.scheme}://{parts.netloc}", exchanger))
    if transport == "stdio":
        run_stdio(mcp, token_verifier)
    else:
        limits = StreamLimits(max_open=max_streams, max_seconds=stream_timeout)
        run_http(mcp, addr, log_level, token_verifier, issuer, resource, stateless, limits)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
