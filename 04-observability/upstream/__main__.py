"""Command line: `python -m 04-observability.upstream [--addr HOST:PORT]`."""

from typing import Annotated, Literal

import typer
import uvicorn

from ..addresses import UPSTREAM_ADDR, parse_addr, split_addr
from ..safe_output import configure_logging
from .app import app

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def main(
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to listen on.")] = UPSTREAM_ADDR,
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the echo upstream: every request to /anything is answered with what it carried."""
    # Uvicorn's access log shows the path and query, never the headers: the
    # forwarded token is echoed in the response only, not written to a log.
    configure_logging(log_level, "%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    host, port = split_addr(addr)
    # uvicorn's default believes X-Forwarded-For from 127.0.0.1, where this server runs: any local
    # process could then pick the `origin` it echoes and the client address it logs. No proxy is trusted here.
    uvicorn.run(app, host=host, port=port, log_level=log_level, log_config=None, proxy_headers=False)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
