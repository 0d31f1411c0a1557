"""Command line: `python -m 04-observability.upstream [--addr HOST:PORT]`."""

import logging
import sys
from typing import Annotated, Literal

import typer
import uvicorn

from .app import app

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def main(
    addr: Annotated[str, typer.Option(help="HOST:PORT to listen on.")] = "127.0.0.1:8085",
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the echo upstream: every request to /anything is answered with what it carried."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise typer.BadParameter(f"{addr!r} is not HOST:PORT", param_hint="'--addr'")
    # Uvicorn's access log shows the path and query, never the headers: the
    # forwarded token is echoed in the response only, not written to a log.
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    # uvicorn's default believes X-Forwarded-For from 127.0.0.1, where this server runs: any local
    # process could then pick the `origin` it echoes and the client address it logs. No proxy is trusted here.
    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level=log_level, log_config=None, proxy_headers=False)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
