"""Command line: `python -m 03-oauth-mcp.upstream [--addr HOST:PORT] [--issuer URL]`."""

from typing import Annotated, Literal

import typer
import uvicorn

from ..addresses import AUTH_SERVER_ADDR, UPSTREAM_ADDR, parse_addr, split_addr
from ..server.issuer import Issuer
from ..server.logs import configure_logging
from ..server.verifier import JWTVerifier
from .app import create_app

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def main(
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on.")] = UPSTREAM_ADDR,
    issuer: Annotated[str, typer.Option(help="The authorization server whose tokens this API accepts.")] = (
        f"http://{AUTH_SERVER_ADDR}"
    ),
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the upstream API: it echoes requests that carry a token issued for it, http://ADDR."""
    configure_logging(log_level)
    host, port = split_addr(addr)
    audience = f"http://{addr}"  # the resource the authorization server issues its tokens for
    app = create_app(JWTVerifier(Issuer(issuer), audience))
    # uvicorn's default believes X-Forwarded-For from 127.0.0.1, where this server runs: any local
    # process could then pick the client address the log shows. No proxy is trusted here.
    uvicorn.run(app, host=host, port=port, log_level=log_level, log_config=None, proxy_headers=False)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
