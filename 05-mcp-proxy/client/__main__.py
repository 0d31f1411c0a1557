"""Command line: `python -m 05-mcp-proxy.client [--url URL] [--token T] tools | call TOOL key=value ... | health`."""

import json
import logging
import sys
from collections import defaultdict
from typing import Annotated, Any, Literal

import anyio
import httpx2
import typer
from mcp import Client, MCPError
from mcp.types import CallToolResult, TextContent, Tool

from ..safe_output import configure_logging, printable
from .arguments import parse_arguments
from .connect import DEFAULT_URL, LESSON, bearer, connect, health_url

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None, no_args_is_help=True)

META_KEY = "mcp-workshop/proxy"  # the proxy's note, in each tool's _meta, of where the tool lives


class CommandError(Exception):
    """A failure to report on one line of stderr, with exit code 1."""


@cli.callback()
def options(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="The proxy's endpoint: /mcp for all backends, /<name>/mcp for one.")] = (
        DEFAULT_URL
    ),
    token: Annotated[
        str | None, typer.Option(envvar="MCP_PROXY_TOKEN", help="Sent as 'Authorization: Bearer <token>'.")
    ] = None,
    log_level: Annotated[Literal["debug", "info", "warning", "error"], typer.Option(help="Log level.")] = "warning",
) -> None:
    """Talk to the lesson 05 MCP proxy."""
    configure_logging(log_level, "%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"url": url, "token": token}


@cli.command("tools")
def tools_command(
    ctx: typer.Context,
    schemas: Annotated[bool, typer.Option("--schemas", help="Also print each tool's input schema.")] = False,
) -> None:
    """List every tool, grouped by the backend it comes from."""
    run(list_tools, ctx.obj, schemas)


@cli.command("call")
def call_command(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(help="The tool's name, as `tools` lists it, e.g. basic__add_numbers.")],
    arguments: Annotated[
        list[str] | None, typer.Argument(metavar="[KEY=VALUE]...", help="Arguments, typed by the tool's schema.")
    ] = None,
) -> None:
    """Call one tool and print its text and its structured result (progress goes to stderr)."""
    run(call_tool, ctx.obj, tool, arguments or [])


@cli.command("health")
def health_command(ctx: typer.Context) -> None:
    """Show each backend's state, from the proxy's /healthz."""
    url = health_url(ctx.obj["url"])
    try:
        health = httpx2.get(url, headers=bearer(ctx.obj["token"]), timeout=10).json()
    except (httpx2.HTTPError, ValueError) as error:
        fail(f"cannot talk to {url}: {reason(error)}")
    try:
        lines = [f"{health['proxy']}: {health['status']}"]
        for name, backend in health["backends"].items():
            detail = backend.get("error") or f"since {backend['since']}"
            lines.append(f"  {name:<16} {backend['state']:<11} {backend['tools']:>3} tools  {detail}")
    except (KeyError, TypeError, AttributeError) as error:  # not shaped as the proxy's /healthz
        fail(f"unexpected {type(error).__name__} in the answer of {url}: {reason(error)}")
    for line in lines:
        print(printable(line))


async def all_tools(client: Client) -> list[Tool]:
    """Every page: the proxy pages its merged list when it is long."""
    tools: list[Tool] = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


def backend_of(tool: Tool) -> str:
    return ((tool.meta or {}).get(META_KEY) or {}).get("backend", "(unknown)")


async def list_tools(client: Client, schemas: bool) -> None:
    groups: dict[str, list[Tool]] = defaultdict(list)
    for tool in await all_tools(client):
        groups[backend_of(tool)].append(tool)
    width = max((len(tool.name) for group in groups.values() for tool in group), default=0)
    for backend, tools in sorted(groups.items()):
        print(printable(f"{backend}: {len(tools)} tool{'s' if len(tools) != 1 else ''}"))
        for tool in sorted(tools, key=lambda t: t.name):
            summary = (tool.description or "").strip().splitlines()[0] if tool.description else ""
            print(printable(f"  {tool.name:<{width}}  {summary}"))
            # json.dumps writes every control character as a \u escape (ensure_ascii): no printable() needed.
            if schemas:
                print("      " + json.dumps(tool.input_schema, indent=2).replace("\n", "\n      "))


async def call_tool(client: Client, name: str, pairs: list[str]) -> None:
    listed = {tool.name: tool for tool in await all_tools(client)}
    # An unknown tool still goes to the proxy: its answer is the error to show.
    schema = listed[name].input_schema if name in listed else {}
    try:
        arguments = parse_arguments(pairs, schema)
    except ValueError as error:
        raise CommandError(str(error)) from None

    async def progress(value: float, total: float | None, message: str | None) -> None:
        line = f"progress {value:g}{f'/{total:g}' if total else ''}{f': {message}' if message else ''}"
        print(printable(line), file=sys.stderr)

    result = await client.call_tool(name, arguments, progress_callback=progress)
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
        async with connect(options["url"], options["token"]) as client:
            await command(client, *args)

    try:
        anyio.run(session)
    # The SDK runs the connection in task groups, so errors arrive as (nested) exception groups.
    except* CommandError as group:
        fail(str(innermost(group)))
    except* MCPError as group:
        error = innermost(group)
        hint = " (give --token, or set MCP_PROXY_TOKEN)" if error.message.startswith("Unauthorized") else ""
        fail(f"the proxy answered with JSON-RPC error {error.code}: {error.message}{hint}")
    except* (httpx2.HTTPError, OSError) as group:
        fail(f"cannot talk to {options['url']}: {reason(innermost(group))}")
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


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.client")
