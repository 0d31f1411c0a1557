"""Command line: `python -m 03-oauth-mcp.client [--url URL] [--token T] tools | call TOOL k=v ...`."""

import json
import logging
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import httpx2
import typer
from mcp import Client, MCPError
from mcp.client.auth import OAuthFlowError
from mcp.types import CallToolResult, TextContent

from ..addresses import SERVER_ADDR
from ..client_extras.account import add_account_commands
from ..client_extras.private_file import UnsafeFile
from ..client_extras.refusals import AccessRefused, unreachable
from ..client_extras.registration import check_fixed_redirect_uri
from ..safe_output import configure_logging, printable
from .arguments import parse_arguments
from .callback import CALLBACK_PORT, LOGIN_TIMEOUT_SECONDS, LoopbackCallback, open_browser
from .connect import LESSON, connect
from .oauth import CheckedOAuthProvider
from .token_storage import DEFAULT_TOKEN_FILE, FileTokenStorage

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)


class CommandError(Exception):
    """A failure to report on one line of stderr, with exit code 1."""


@cli.callback()
def options(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="The MCP server's Streamable HTTP endpoint.")] = f"http://{SERVER_ADDR}/mcp",
    token: Annotated[
        str | None,
        typer.Option(help="Sent as 'Authorization: Bearer <token>' over HTTP, or as API_KEY to a spawned server."),
    ] = None,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level of the client and a spawned server.")
    ] = "warning",
    stdio: Annotated[bool, typer.Option(help="Spawn the server over stdio instead of --url.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Narrate each step of the OAuth flow.")] = False,
    browser: Annotated[bool, typer.Option(help="Open the login page in a browser, or only print its URL.")] = True,
    callback_port: Annotated[
        int, typer.Option(help="The port of the redirect URI, on 127.0.0.1; 0: a free one, new for each login.")
    ] = CALLBACK_PORT,
    token_file: Annotated[Path, typer.Option(help="Where logins are kept, owner-only.")] = DEFAULT_TOKEN_FILE,
    scope: Annotated[str | None, typer.Option(help="Scopes to ask for beyond those the server asks for.")] = None,
    force_login: Annotated[bool, typer.Option(help="Forget this server's tokens and registration first.")] = False,
    login_timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the login.")] = LOGIN_TIMEOUT_SECONDS,
    client_metadata_url: Annotated[str | None, typer.Option(help="An https client_id: a metadata document.")] = None,
) -> None:
    """Talk to the lesson 03 MCP server, logging in with OAuth 2.1."""
    configure_logging(log_level, "%(levelname)s %(name)s: %(message)s")
    # The SDK logs every failed login with a traceback; this command reports it on one line instead.
    logging.getLogger("mcp.client.auth").setLevel("DEBUG" if log_level == "debug" else "CRITICAL")
    callback, storage = LoopbackCallback(callback_port, login_timeout), FileTokenStorage(token_file, url)
    try:
        check_fixed_redirect_uri(callback_port, client_metadata_url)  # a document lists its redirect URIs
        auth = CheckedOAuthProvider(
            url,
            storage,
            callback,
            open_page=partial(open_browser, use_browser=browser),
            client_metadata_url=client_metadata_url,
            scope=scope,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--client-metadata-url") from None
    if force_login and not stdio and not token:
        storage.forget()  # the registration too: an authorization server restarted on a new database forgot it
    ctx.obj = {"url": None if stdio else url, "log_level": log_level, "token": token, "verbose": verbose}
    ctx.obj["auth"] = None if stdio or token else auth


@cli.command("tools")
def tools_command(ctx: typer.Context) -> None:
    """List the server's tools: name, description and input schema."""
    run(list_tools, ctx.obj)


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
        async with connect(**options) as client:
            await command(client, *args)

    try:
        anyio.run(session)
    # The SDK runs the connection in task groups, so errors arrive as (nested) exception groups.
    except* CommandError as group:
        fail(str(innermost(group)))
    except* (AccessRefused, UnsafeFile) as group:  # a refused --token, an unsafe token file: each says it all
        fail(str(innermost(group)))
    except* OAuthFlowError as group:
        fail(f"authorization failed: {reason(innermost(group))}")
    except* MCPError as group:
        error = innermost(group)
        fail(f"server answered with JSON-RPC error {error.code}: {error.message}")
    except* (httpx2.HTTPError, OSError) as group:
        error = innermost(group)
        where = unreachable(error, options["url"] or f"python -m {LESSON}.server")  # the authorization server, perhaps
        fail(f"cannot talk to {where}: {reason(error)}")
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
    # Messages carry text from servers (their errors): escaped, so none can drive the terminal.
    print(f"error: {printable(message)}", file=sys.stderr)
    raise SystemExit(1)


add_account_commands(cli, run, fail, reason)  # login, logout: ../client_extras/account.py

if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.client")
