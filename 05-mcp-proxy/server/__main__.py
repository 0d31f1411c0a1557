"""Command line: `python -m 05-mcp-proxy.server [--addr HOST:PORT] [--config FILE]`, and `pins`, `approve`."""

import difflib
import json
import logging
import shlex
import sys
import warnings
from pathlib import Path
from typing import Annotated, Literal

import typer

from ..addresses import is_loopback, parse_addr, split_addr
from .config import Config, ConfigError, load_config
from .logs import configure_logging
from .pinning import PinStore, pin_key
from .settings import ProxySettings
from .streams import StreamEndingServer, StreamLimits

logger = logging.getLogger(__package__)  # the package, "<lesson>.server", not "__main__"

LESSON_DIR = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = LESSON_DIR / "config.json"

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_optional_addr(addr: str | None) -> str | None:
    """`--addr` when given; without it, the config's `mcpProxy.addr` is used."""
    return None if addr is None else parse_addr(addr)


def load(config_path: Path) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as error:
        raise typer.BadParameter(f"{config_path}:\n{error}", param_hint="'--config'") from None


def default_pins(config_path: Path) -> Path:
    return config_path.with_name(f"{config_path.stem}.pins.json")


@cli.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    addr: Annotated[
        str | None,
        typer.Option(callback=parse_optional_addr, help="HOST:PORT to listen on. Default: the config's addr."),
    ] = None,
    config: Annotated[
        Path,
        typer.Option(help="The proxy's JSON config (TBXark or Claude shape).", show_default="05-mcp-proxy/config.json"),
    ] = DEFAULT_CONFIG,
    pins: Annotated[
        Path | None, typer.Option(help="Approved tool definitions. Default: <config>.pins.json beside the config.")
    ] = None,
    max_streams: Annotated[
        int, typer.Option(min=1, help="Server-to-client streams open at once; one more gets 503.")
    ] = StreamLimits.max_open,
    stream_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds before the server ends a stream; the client may open another.")
    ] = StreamLimits.max_seconds,
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], typer.Option(help="Log level; logs go to stderr.")
    ] = "info",
) -> None:
    """Run the MCP proxy: every configured server's tools behind one Streamable HTTP endpoint, /mcp."""
    ctx.obj = {"config": config, "pins": pins or default_pins(config)}
    if ctx.invoked_subcommand:
        return
    settings = ProxySettings.from_config(load(config))
    # Imported only now: `pins`, `approve` and a config error answer in a fraction of the time.
    import uvicorn
    from mcp.shared.exceptions import MCPDeprecationWarning

    from .http import create_http_app
    from .proxy import Proxy

    configure_logging(log_level)
    # The proxy speaks the handshake era to backends on purpose (backends.py); its ping and
    # logging helpers are marked deprecated for the 2026-07-28 era, where they do not apply.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    host, port = split_addr(addr or settings.addr)
    host = host or "127.0.0.1"  # TBXark writes ":9090" for every interface; this proxy binds loopback unless told
    loopback = is_loopback(host)
    open_backends = [name for name, backend in settings.backends.items() if not backend.tokens]
    if not loopback and open_backends:
        logger.warning("listening on %s: anyone who can reach it can use %s (no authTokens)", host, open_backends)
    proxy = Proxy(settings, config, PinStore(ctx.obj["pins"]), operator_command(config, ctx.obj["pins"]))
    app = create_http_app(proxy, host=host, limits=StreamLimits(max_open=max_streams, max_seconds=stream_timeout))
    endpoint = settings.base_url or f"http://{host}:{port}"  # baseURL: where clients really reach it
    logger.info("MCP endpoint: %s/mcp (backends: %s)", endpoint, ", ".join(settings.backends))
    logger.info("tool pins: %s", ctx.obj["pins"])
    # uvicorn stops gracefully on SIGINT and SIGTERM: it stops accepting, ends
    # the streams (StreamEndingServer), finishes in-flight requests, then runs the
    # lifespan shutdown. By default it waits as long as requests last: what is
    # still running after 5 s is cancelled.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        timeout_graceful_shutdown=5,
        # uvicorn's default believes X-Forwarded-For from 127.0.0.1, where this server runs: any
        # local process could then pick the client address the log shows. No proxy is trusted here.
        proxy_headers=False,
    )
    server = StreamEndingServer(config, app.state.streams)
    server.run()
    if not server.started:  # it could not listen (the port is taken, say): uvicorn has logged why
        sys.exit(3)  # as uvicorn.run() exits


def operator_command(config: Path, pins: Path) -> str:
    """How an operator runs `pins` and `approve` on this proxy's files: the options only when not the defaults."""
    command = f"python -m {__package__}"
    if config.resolve() != DEFAULT_CONFIG:
        command += f" --config {shlex.quote(str(config))}"
    if pins.resolve() != default_pins(config).resolve():
        command += f" --pins {shlex.quote(str(pins))}"
    return command


@cli.command("pins")
def pins_command(ctx: typer.Context) -> None:
    """Show the pinned tools, and the diff of every definition waiting for approval (new tools: from nothing)."""
    store = PinStore(ctx.obj["pins"])
    listed = sorted(key for key in store.changed if store.times_listed(key))
    naming = sorted(key for key in store.changed if store.changed[key].get("names"))
    new = sorted(key for key in store.changed if key not in store.approved and key not in listed + naming)
    changed = len(store.changed) - len(new) - len(listed) - len(naming)
    twice = f", {len(listed)} listed more than once" if listed else ""
    others = f", {len(naming)} naming another server's tools" if naming else ""
    print(f"{ctx.obj['pins']}: {len(store.approved)} approved, {changed} changed, {len(new)} new{twice}{others}")
    for key in sorted(store.approved):
        print(f"  {state(store, key):<7} {key}  sha256:{store.approved[key]['sha256'][:12]}")
    for key in sorted(store.changed.keys() - store.approved.keys()):
        print(f"  {state(store, key):<7} {key}  sha256:{store.changed[key]['sha256'][:12]}")
    for key, change in sorted(store.changed.items()):
        approved = store.approved.get(key)
        held = approved is not None and approved["sha256"] == change["sha256"]  # trusted on first use, held since
        approved = None if held else approved  # then the whole definition is the thing to read
        before = json.dumps(approved["definition"], indent=2, sort_keys=True).splitlines() if approved else []
        after = json.dumps(change["definition"], indent=2, sort_keys=True).splitlines()
        what = "changed" if approved else "is held" if held else "is new"
        if times := store.times_listed(key):
            what = f"is listed {times} times by its backend (every entry below)"
        elif names := change.get("names"):
            what += f", and names another server's tool: {', '.join(names)} (a possible tool shadowing)"
        print(f"\n{key} {what} (seen {change['seen']}):")
        for line in difflib.unified_diff(before, after, "approved", "now", lineterm="", n=1):
            print(f"  {line}")


def state(store: PinStore, key: str) -> str:
    """What `pins` says of a tool: ok, CHANGED, NEW, LISTED 2 TIMES (a name no one can approve), or NAMES OTHERS
    (its definition names another server's tools)."""
    if key not in store.changed:
        return "ok"
    if times := store.times_listed(key):
        return f"LISTED {times} TIMES"
    if store.changed[key].get("names"):
        return "NAMES OTHERS"
    return "CHANGED" if key in store.approved else "NEW"


@cli.command("approve")
def approve_command(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(metavar="[NAME]...", help="Tools to approve: server__tool or server/tool.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Approve every new or changed tool.")] = False,
) -> None:
    """Accept the waiting definition of new or changed tools; a running proxy serves them (again)."""
    separator = ProxySettings.from_config(load(ctx.obj["config"])).separator
    store = PinStore(ctx.obj["pins"])
    keys = sorted(store.changed) if every else [as_key(name, separator) for name in names or []]
    if not keys:
        raise typer.BadParameter("name a tool to approve, or give --all", param_hint="NAME")
    unknown = store.approve(keys)
    for key in keys:
        if key not in unknown:
            print(f"approved {key}")
    for key in unknown:
        if times := store.times_listed(key):
            # Which of its definitions would be approved? Its backend must list the name once first.
            print(
                f"error: {key} is listed {times} times by its backend: it cannot be approved until the backend "
                "lists it once",
                file=sys.stderr,
            )
    if nothing_waiting := [key for key in unknown if not store.times_listed(key)]:
        print(f"error: no change waiting for approval: {', '.join(nothing_waiting)}", file=sys.stderr)
    if unknown:
        raise typer.Exit(1)


def as_key(name: str, separator: str) -> str:
    """`basic__echo` or `basic/echo` -> the pins file's key, `basic/echo`."""
    if "/" in name:
        return name
    backend, _, tool = name.partition(separator)
    return pin_key(backend, tool)


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}")
