"""Command line: `python -m 03-oauth-mcp.machine_client --client-id ID (--client-secret S | --client-key KEY) ...`."""

import logging
from pathlib import Path
from typing import Annotated, Literal

import typer
from mcp.client.auth.extensions.client_credentials import (
    ClientCredentialsOAuthProvider,
    PrivateKeyJWTOAuthProvider,
    SignedJWTParameters,
)

from ..addresses import AUTH_SERVER_ADDR, SERVER_ADDR
from ..client.__main__ import call_command, tools_command
from ..client.connect import LESSON
from ..safe_output import configure_logging
from .private_key import UnusableKey, load_signing_key
from .token_storage import MemoryTokenStorage

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)


@cli.callback()
def options(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Option(help="The machine's client, registered at --issuer.")],
    client_secret: Annotated[
        str | None, typer.Option(envvar="MCP_CLIENT_SECRET", help="Its secret (env MCP_CLIENT_SECRET).")
    ] = None,
    client_key: Annotated[
        Path | None,
        typer.Option(
            help="Or its private key (a JWK or PEM file, EC P-256 or RSA, owner-only): it signs an assertion "
            "(private_key_jwt) instead of sending a secret."
        ),
    ] = None,
    issuer: Annotated[
        str, typer.Option(help="The authorization server the client is registered at: its secret goes nowhere else.")
    ] = f"http://{AUTH_SERVER_ADDR}",
    url: Annotated[str, typer.Option(help="The MCP server's Streamable HTTP endpoint.")] = f"http://{SERVER_ADDR}/mcp",
    scope: Annotated[str | None, typer.Option(help="Scopes to ask for (space-separated).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Narrate each step of the OAuth flow.")] = False,
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "warning",
) -> None:
    """Call the lesson 03 MCP server as a machine: client credentials, no user, no browser."""
    configure_logging(log_level, "%(levelname)s %(name)s: %(message)s")
    # The SDK logs every failed login with a traceback; this command reports it on one line instead.
    logging.getLogger("mcp.client.auth").setLevel("DEBUG" if log_level == "debug" else "CRITICAL")
    if bool(client_secret) == bool(client_key):
        problem = "a machine logs in with --client-id and --client-secret, or --client-key (one of the two)"
        raise typer.BadParameter(problem, param_hint="--client-secret")
    if client_key:
        # private_key_jwt (RFC 7523 §2.2): each token request carries a fresh assertion, iss = sub = the
        # client, aud = --issuer's identifier, signed with the key; the authorization server holds only
        # the public half. The SDK signs it, and sends it to --issuer's validated token endpoint only.
        try:
            key, algorithm = load_signing_key(client_key)
        except UnusableKey as error:
            raise typer.BadParameter(str(error), param_hint="--client-key") from None
        assertion = SignedJWTParameters(
            issuer=client_id, subject=client_id, signing_key=key, signing_algorithm=algorithm, lifetime_seconds=60
        )
        auth = PrivateKeyJWTOAuthProvider(
            url, MemoryTokenStorage(), client_id, assertion.create_assertion_provider(), scope=scope, issuer=issuer
        )
    else:
        auth = ClientCredentialsOAuthProvider(
            url, MemoryTokenStorage(), client_id, client_secret, scope=scope, issuer=issuer
        )
    ctx.obj = {"url": url, "log_level": log_level, "token": None, "verbose": verbose, "auth": auth}


cli.command("tools")(tools_command)
cli.command("call")(call_command)


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.machine_client")
