"""Command line: `python -m 03-oauth-mcp.enterprise.client [--idp URL] [--id-token T] ... tools | call TOOL k=v ...`."""

import logging
from functools import partial
from typing import Annotated, Literal

import typer
from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider

from ...addresses import AUTH_SERVER_ADDR, IDP_ADDR, SERVER_ADDR
from ...client.__main__ import call_command, tools_command
from ...client.callback import CALLBACK_PORT, LOGIN_TIMEOUT_SECONDS, LoopbackCallback, open_browser
from ...client.connect import LESSON
from ...machine_client.token_storage import MemoryTokenStorage
from ...safe_output import configure_logging
from ..idp.directory import DESKTOP_CLIENT_ID, MCP_CLIENT_ID
from .identity_provider import IdentityProvider

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)


@cli.callback()
def options(
    ctx: typer.Context,
    idp: Annotated[str, typer.Option(help="The company's identity provider, by its issuer.")] = f"http://{IDP_ADDR}",
    idp_client_id: Annotated[str, typer.Option(help="This application's client id at the IdP.")] = DESKTOP_CLIENT_ID,
    idp_client_secret: Annotated[
        str | None, typer.Option(envvar="IDP_CLIENT_SECRET", help="Its secret there (env IDP_CLIENT_SECRET).")
    ] = None,
    id_token: Annotated[
        str | None,
        typer.Option(
            envvar="MCP_ID_TOKEN",
            help="An ID token the user holds already, from --idp (env MCP_ID_TOKEN, better than the command "
            "line): no sign-in.",
        ),
    ] = None,
    idp_token_endpoint: Annotated[
        str | None, typer.Option(help="The IdP's token endpoint. [default: from its metadata]", show_default=False)
    ] = None,
    client_id: Annotated[str, typer.Option(help="This application's client id at --issuer.")] = MCP_CLIENT_ID,
    client_secret: Annotated[
        str | None, typer.Option(envvar="MCP_CLIENT_SECRET", help="Its secret there (env MCP_CLIENT_SECRET).")
    ] = None,
    issuer: Annotated[
        str, typer.Option(help="The MCP server's authorization server: ID-JAGs and the secret go nowhere else.")
    ] = f"http://{AUTH_SERVER_ADDR}",
    url: Annotated[str, typer.Option(help="The MCP server's Streamable HTTP endpoint.")] = f"http://{SERVER_ADDR}/mcp",
    scope: Annotated[str | None, typer.Option(help="Scopes to ask for (space-separated).")] = None,
    browser: Annotated[bool, typer.Option(help="Open the sign-in page in a browser, or only print its URL.")] = True,
    callback_port: Annotated[int, typer.Option(help="The port of the redirect URI, on 127.0.0.1.")] = CALLBACK_PORT,
    login_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for the sign-in.")
    ] = LOGIN_TIMEOUT_SECONDS,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Narrate each step of the flow.")] = False,
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "warning",
) -> None:
    """Call the lesson 03 MCP server as a user of the company: signed in at its identity provider."""
    configure_logging(log_level, "%(levelname)s %(name)s: %(message)s")
    # The SDK logs every failed login with a traceback; this command reports it on one line instead.
    logging.getLogger("mcp.client.auth").setLevel("DEBUG" if log_level == "debug" else "CRITICAL")
    if not client_secret:
        raise typer.BadParameter(
            "the MCP authorization server knows this application by its secret", param_hint="--client-secret"
        )
    try:
        company = IdentityProvider(idp, idp_client_id, idp_client_secret, idp_token_endpoint, verbose)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--idp-token-endpoint") from None
    held = {"id_token": id_token}
    callback = LoopbackCallback(callback_port, login_timeout)

    async def fetch_id_jag(audience: str, resource: str) -> str:
        # The SDK awaits this for every token it needs, once the authorization server's metadata (from
        # --issuer) has checked out: `audience` is --issuer, `resource` the MCP server. The user signs in
        # once per run; each token takes a fresh ID-JAG, which the authorization server accepts once.
        if held["id_token"] is None:
            held["id_token"] = await company.sign_in(callback, partial(open_browser, use_browser=browser))
        return await company.exchange(held["id_token"], audience, resource)

    auth = IdentityAssertionOAuthProvider(
        url,
        MemoryTokenStorage(),
        client_id,
        client_secret,
        issuer,
        fetch_id_jag,
        scope=scope,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 -- what every server must accept
    )
    ctx.obj = {"url": url, "log_level": log_level, "token": None, "verbose": verbose, "auth": auth}


cli.command("tools")(tools_command)
cli.command("call")(call_command)


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.enterprise.client")
