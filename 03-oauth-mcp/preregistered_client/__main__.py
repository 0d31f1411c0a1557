"""Command line: `python -m 03-oauth-mcp.preregistered_client --client-id ID [--client-secret S] [--issuer URL] ...`.

The client's own command line, its options declared once in `client/__main__.py`, with three of its
own after them: the client an administrator registered, its secret, and the issuer both belong to.
"""

import inspect
from typing import Annotated

import typer

from ..addresses import AUTH_SERVER_ADDR
from ..client import __main__ as lesson
from ..client.connect import LESSON
from .provider import PreRegisteredProvider, preregistered

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)


def options(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Option(help="The client an administrator registered at --issuer.")],
    client_secret: Annotated[
        str | None, typer.Option(envvar="MCP_CLIENT_SECRET", help="Its secret, if it has one (env MCP_CLIENT_SECRET).")
    ] = None,
    issuer: Annotated[
        str, typer.Option(help="The authorization server it is registered at: its id and secret go nowhere else.")
    ] = f"http://{AUTH_SERVER_ADDR}",
    **client_options,  # the lesson client's, as `python -m 03-oauth-mcp.client` declares them
) -> None:
    """Talk to the lesson 03 MCP server, logging in through a client registered beforehand."""
    lesson.options(ctx, **client_options)
    if (base := ctx.obj["auth"]) is None:
        return  # --stdio or --token: no login to make
    client = preregistered(client_id, client_secret, issuer, base.callback.redirect_uri)
    ctx.obj["auth"] = PreRegisteredProvider(
        base.context.server_url,
        base.storage,
        base.callback,
        open_page=base.open_page,
        client_metadata_url=base.context.client_metadata_url,
        scope=base.scope,
        client=client,
    )


def with_client_options(callback):
    """`callback`, taking the lesson client's options too, before its own three."""
    ours = [p for p in inspect.signature(callback).parameters.values() if p.kind is not p.VAR_KEYWORD]
    theirs = list(inspect.signature(lesson.options).parameters.values())
    options = [p.replace(kind=p.KEYWORD_ONLY) for p in [*theirs[1:], *ours[1:]]]  # --client-id has no default
    callback.__signature__ = inspect.Signature([theirs[0], *options], return_annotation=None)
    return callback


cli.callback()(with_client_options(options))
for command in lesson.cli.registered_commands:  # tools, call, login and logout, as the client's
    cli.command(command.name)(command.callback)

if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.preregistered_client")
