"""Command line: `python -m 03-oauth-mcp.enterprise.idp [--addr 127.0.0.1:9100] [--audience ISSUER] [--resource URL]`.

`--audience` and `--resource` are the administrator's connection: the MCP authorization server the
application may get ID-JAGs for (by its issuer, exactly), and the MCP servers behind it. The lesson's
authorization server must trust this IdP in turn: `--trusted-idp http://ADDR=http://ADDR/jwks.json`.
"""

import logging
from typing import Annotated, Literal

import typer
import uvicorn

from ...addresses import AUTH_SERVER_ADDR, IDP_ADDR, SERVER_ADDR, is_loopback, parse_addr, split_addr
from ...auth_server.optional.logs import configure_logging  # no credential from a URL in the log
from .app import create_app
from .directory import Directory

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
logger = logging.getLogger(__package__)


@cli.command()
def main(
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on (loopback).")] = IDP_ADDR,
    audience: Annotated[
        str, typer.Option(help="The MCP authorization server's issuer, which ID-JAGs are for.")
    ] = f"http://{AUTH_SERVER_ADDR}",
    resource: Annotated[
        list[str] | None,
        typer.Option(help=f"An MCP server there; repeatable. [default: http://{SERVER_ADDR}/mcp]", show_default=False),
    ] = None,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level; logs go to stderr.")
    ] = "info",
) -> None:
    """Run the bundled enterprise identity provider (development only)."""
    host, port = split_addr(addr)
    if not is_loopback(host):
        # Its users' passwords are in the source, and it keeps no count of failed sign-ins.
        raise typer.BadParameter("the bundled IdP is for development: it listens on loopback only", param_hint="--addr")
    configure_logging(log_level)
    issuer = f"http://{addr}"
    resources = tuple(resource or [f"http://{SERVER_ADDR}/mcp"])
    app = create_app(issuer, Directory.for_lesson(audience, resources))
    logger.info("issuer %s; ID-JAGs for %s, resources %s", issuer, audience, " ".join(resources))
    uvicorn.run(app, host=host, port=port, log_level=log_level, log_config=None)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
