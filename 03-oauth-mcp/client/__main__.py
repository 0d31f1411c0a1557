"""Command line: `python -m 03-oauth-mcp.client [--url URL] [--verbose] tools | call TOOL k=v ... | login | logout`."""

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import httpx2
import typer
from mcp import Client, MCPError
from mcp.client.auth import OAuthFlowError, OAuthTokenError
from mcp.types import CallToolResult, TextContent

from ..safe_output import configure_logging, printable
from .arguments import parse_arguments
from .callback import CALLBACK_TIMEOUT_SECONDS
from .connect import LESSON, AccessRefused, OAuthOptions, connect, preregistered_client
from .oauth import logout
from .token_storage import DEFAULT_TOKEN_FILE, FileTokenStorage, UnsafeTokenFile

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)


class CommandError(Exception):
    """A failure to report on one line of stderr, with exit code 1."""


@cli.callback()
def options(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="The MCP server's Streamable HTTP endpoint.")] = "http://127.0.0.1:8095/mcp",
    stdio: Annotated[
        bool, typer.Option(help="Spawn the server over stdio instead, with --token as its API_KEY.")
    ] = False,
    token: Annotated[
        str | None,
        typer.Option(help="An access token to send as is, skipping OAuth; on stdio, the server's API_KEY."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Narrate each step of the OAuth flow.")] = False,
    browser: Annotated[
        bool, typer.Option(help="Open the login page in a browser (--no-browser: only print its URL).")
    ] = True,
    callback_port: Annotated[
        int, typer.Option(help="Port of the loopback redirect URI http://127.0.0.1:PORT/callback.")
    ] = 8096,
    token_file: Annotated[
        Path, typer.Option(help="Where registrations and tokens are kept (mode 0600).")
    ] = DEFAULT_TOKEN_FILE,
    scope: Annotated[
        str | None, typer.Option(help="Scopes to ask for (space-separated), beyond those the server asks for.")
    ] = None,
    force_login: Annotated[
        bool,
        typer.Option(help="Discard the tokens and the client registration stored for this server, and log in again."),
    ] = False,
    login_timeout: Annotated[
        float, typer.Option(min=1, help="How long to wait, in seconds, for the browser to come back from the login.")
    ] = CALLBACK_TIMEOUT_SECONDS,
    client_metadata_url: Annotated[
        str | None,
        typer.Option(
            help="An https URL to use as client_id (a Client ID Metadata Document), preferred to registering."
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="A client registered at the authorization server beforehand: the user logs in through it "
            "(register the redirect URI http://127.0.0.1:CALLBACK_PORT/callback)."
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="MCP_CLIENT_SECRET", help="That client's secret, if it is confidential (env MCP_CLIENT_SECRET)."
        ),
    ] = None,
    client_credentials: Annotated[
        bool,
        typer.Option(
            help="Log in as the client itself, with no user (machine to machine): needs --client-id and a secret."
        ),
    ] = False,
    issuer: Annotated[
        str,
        typer.Option(help="The authorization server --client-id is registered at: its id and secret go nowhere else."),
    ] = "http://127.0.0.1:9000",
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level of the client and a spawned server.")
    ] = "warning",
) -> None:
    """Talk to the lesson 03 MCP server, logging in with OAuth 2.1."""
    configure_logging(log_level, "%(levelname)s %(name)s: %(message)s")
    # The SDK logs every failed login with a traceback; this command reports it on one line instead.
    logging.getLogger("mcp.client.auth").setLevel("DEBUG" if log_level == "debug" else "CRITICAL")
    if client_secret and not client_id:
        raise typer.BadParameter("a secret needs its --client-id", param_hint="--client-secret")
    if client_credentials and not (client_id and client_secret):
        raise typer.BadParameter(
            "a machine logs in with --client-id and --client-secret", param_hint="--client-credentials"
        )
    if force_login and not stdio and not token:
        # The registration too: an authorization server restarted on a new database has forgotten it.
        FileTokenStorage(token_file, url).forget()
    oauth = OAuthOptions(
        token_file=token_file,
        callback_port=callback_port,
        use_browser=browser,
        verbose=verbose,
        scope=scope,
        client_metadata_url=client_metadata_url,
        client_id=client_id,
        client_secret=client_secret,
        client_credentials=client_credentials,
        issuer=issuer,
        login_timeout=login_timeout,
    )
    ctx.obj = {"url": None if stdio else url, "log_level": log_level, "token": token, "oauth": oauth}


@cli.command("tools")
def tools_command(ctx: typer.Context) -> None:
    """List the server's tools: name, description and input schema."""
    run(list_tools, ctx.obj)


@cli.command("login")
def login_command(ctx: typer.Context) -> None:
    """Log in to this server again, with new consent, replacing the tokens stored for it."""
    if not ctx.obj["url"] or ctx.obj["token"] or ctx.obj["oauth"].client_credentials:
        fail("login is for a user at an HTTP server: stdio, --token and --client-credentials keep no login")
    storage = FileTokenStorage(ctx.obj["oauth"].token_file, ctx.obj["url"])
    storage.forget_tokens()
    run(list_tools_quietly, ctx.obj)
    tokens = storage.entry().get("tokens", {})
    print(f"Logged in to {ctx.obj['url']}, scope {tokens.get('scope', '')!r}.")


@cli.command("logout")
def logout_command(ctx: typer.Context) -> None:
    """Revoke this server's tokens at the authorization server and delete them."""
    url = ctx.obj["url"]
    if not url:
        fail("logout needs --url: a stdio server takes its token from API_KEY, there is no login to end")
    try:
        oauth = ctx.obj["oauth"]
        print(printable(anyio.run(logout, FileTokenStorage(oauth.token_file, url), url, preregistered_client(oauth))))
    except (httpx2.HTTPError, ValueError, UnsafeTokenFile) as error:
        fail(f"logout failed: {reason(error)}")


@cli.command("call")
def call_command(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(help="The tool's name, as `tools` lists it.")],
    arguments: Annotated[
        list[str] | None, typer.Argument(metavar="[KEY=VALUE]...", help="Arguments, typed by the tool's schema.")
    ] = None,
) -> None:
    """Call one tool and print its text and its structured result."""
    run(call_tool, ctx.obj, tool, arguments or [])


async def list_tools_quietly(client: Client) -> None:
    await client.list_tools()  # any request: a 401 starts the login


async def list_tools(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        print(printable(tool.name))
        print(printable(f"    {tool.description}"))
        # json.dumps writes every control character as a \u escape (ensure_ascii): no printable() needed.
        schema = json.dumps(tool.input_schema, indent=2).replace("\n", "\n    ")
        print(f"    input schema: {schema}")


async def call_tool(client: Client, name: str, pairs: list[str]) -> None:
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    # An unknown tool still goes to the server: its answer is the error to show.
    schema = listed[name].input_schema if name in listed else {}
    try:
        arguments = parse_arguments(pairs, schema)
    except ValueError as error:
        raise CommandError(str(error)) from None
    result = await client.call_tool(name, arguments)
    if result.is_error:
        raise CommandError(text_of(result))
    print(text_of(result))
    if result.structured_content is not None:
        print(f"structured: {json.dumps(result.structured_content)}")


def text_of(result: CallToolResult) -> str:
    """The result's text, its lines kept and every other control character escaped."""
    text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    return "\n".join(printable(line) for line in text.split("\n"))


def run(command: Any, options: dict[str, Any], *args: Any) -> None:
    """Connect, run one command, and turn every failure into one line and exit code 1."""

    async def session() -> None:
        async with connect(options["url"], options["log_level"], options["token"], options["oauth"]) as client:
            await command(client, *args)

    try:
        anyio.run(session)
    # The SDK runs the connection in task groups, so errors arrive as (nested) exception groups.
    except* CommandError as group:
        fail(str(innermost(group)))
    except* AccessRefused as group:
        fail(f"the server refused the token: {innermost(group)}")
    except* (OAuthFlowError, OAuthTokenError) as group:
        fail(f"authorization failed: {reason(innermost(group))}")
    except* MCPError as group:
        error = innermost(group)
        fail(f"server answered with JSON-RPC error {error.code}: {error.message}")
    except* UnsafeTokenFile as group:
        fail(str(innermost(group)))
    except* (httpx2.HTTPError, OSError) as group:
        where = options["url"] or f"python -m {LESSON}.server"
        fail(f"cannot talk to {where}: {reason(innermost(group))}")
    except* Exception as group:
        # Not a failure this command knows: still one line, with its type (the traceback with --log-level debug).
        error = innermost(group)
        logging.getLogger(__name__).debug("unexpected error", exc_info=error)
        fail(f"unexpected {type(error).__name__}: {reason(error)}")


def innermost(error: BaseException) -> Any:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def reason(error: BaseException) -> str:
    """What went wrong, in words: the error's message, or, for one without (a bare timeout), its type
    and what caused it; never an empty "cannot talk to ...: "."""
    if message := str(error):
        return message
    cause = error.__cause__ or error.__context__
    return type(error).__name__ + (f" ({reason(cause)})" if cause else "")


def fail(message: str) -> None:
    # Messages carry text from servers (errors, challenges): escaped, so none can drive the terminal.
    print(f"error: {printable(message)}", file=sys.stderr)
    raise SystemExit(1)


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.client")
