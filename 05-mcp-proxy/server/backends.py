"""One backend: its connection, its catalog, and the loop that keeps it alive.

Each backend runs in its own task, so a slow or broken one delays nobody else:

    connecting --(initialize + list within `timeout`)--> ready
    ready --(ping fails or times out, the process dies, a call finds it gone)--> failed
    failed --(wait: 0.5 s, 1 s, 2 s ... up to reconnect.maxDelay)--> connecting

Only a ready backend has a session and a catalog, and the three change
together (`_set`): a backend on its way down reads as unavailable at once,
everywhere, never as a tool whose definition changed. Reconnecting means a new
session from scratch: a stdio backend is spawned again, an HTTP backend gets a
fresh `initialize` (and so a new Mcp-Session-Id).
Whenever its catalog changes - connected, lost, or the backend sent
`notifications/*/list_changed` - the backend tells the proxy, which tells clients.

The proxy speaks the handshake era (`mode="legacy"`) to every backend: every
MCP server understands it, and it is the era in which a server may push
list_changed, log lines, sampling and elicitation requests at any time; the
callbacks registered here are what declares those capabilities to the backend.
"""

import datetime
import logging
import math
import shlex
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.server import ServerRequestContext
from mcp.shared.dispatcher import ProgressFnT
from mcp_types import (
    CONNECTION_CLOSED,
    REQUEST_TIMEOUT,
    CallToolResult,
    Prompt,
    PromptListChangedNotification,
    Resource,
    ResourceListChangedNotification,
    ResourceTemplate,
    TextContent,
    Tool,
    ToolListChangedNotification,
)

from .config import BackendConfig, expand
from .names import META_KEY
from .pinning import digest
from .relay import InFlight
from .settings import BackendSettings

logger = logging.getLogger(__name__)

State = Literal["connecting", "ready", "failed", "stopped"]
MAX_PAGES = 100  # a backend whose cursor never ends cannot hang the proxy


class BackendLost(Exception):
    """The connection to a ready backend is gone."""


def tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def client_for(spec: BackendConfig) -> StdioServerParameters | str:
    """Describe the transport, with ${VAR} expanded now: a missing variable fails this backend only."""
    if spec.command:
        # "python" means the interpreter running the proxy: the lessons need the
        # virtual environment's packages, activated or not.
        command = sys.executable if spec.command in ("python", "python3") else spec.command
        return StdioServerParameters(
            command=command,
            args=[expand(arg, f"args[{i}]") for i, arg in enumerate(spec.args)],
            env={key: expand(value, f"env.{key}") for key, value in spec.env.items()},
            cwd=spec.cwd,
        )
    return expand(spec.url or "", "url")


@dataclass(frozen=True)
class Catalog:
    """Everything a backend offers, every page of it: fetched whole, replaced whole."""

    tools: tuple[Tool, ...] = ()  # each name once: a name listed more than once is in `duplicated` instead
    digests: Mapping[str, str] = field(default_factory=dict)  # tool name -> SHA-256 of its definition (pinning.py)
    # Names the backend listed more than once, with every entry: refused, whatever their pins say (view.py).
    duplicated: Mapping[str, tuple[Tool, ...]] = field(default_factory=dict)
    prompts: tuple[Prompt, ...] = ()
    resources: tuple[Resource, ...] = ()
    templates: tuple[ResourceTemplate, ...] = ()


NOTHING = Catalog()  # what a backend that is not ready offers


class Backend:
    def __init__(self, settings: BackendSettings, on_change: Callable[["Backend"], Awaitable[None]]) -> None:
        self.name = settings.name
        self.connection = settings.connection  # what the session is made from
        self.on_change = on_change  # the proxy: re-derive what callers see, tell clients
        self.inflight = InFlight(settings.name)
        # `client` is set exactly while `state` is "ready": both change together, with no
        # await in between, so no request ever sees a ready backend without a session.
        self.client: Client | None = None
        self.state: State = "connecting"
        self.error: str | None = None
        self.catalog = NOTHING
        self.since = datetime.datetime.now(datetime.UTC)
        self.connects = 0
        self.first_attempt = anyio.Event()  # set once the first connection succeeded or failed
        self._scope = anyio.CancelScope()
        self._wake = anyio.Event()
        self._stale = False
        self._lost: str | None = None

    # -- lifecycle ---------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect with backoff, until `stop()`."""
        delay = self.connection.reconnect.initial_delay
        with self._scope:
            while True:
                connects = self.connects
                try:
                    await self._serve_one_session()
                except Exception as error:
                    reason = describe(error)
                    if self.connects > connects:
                        logger.warning("backend %s lost: %s", self.name, reason)
                        delay = self.connection.reconnect.initial_delay  # it was up: start the backoff afresh
                    else:
                        logger.warning("backend %s failed to connect: %s", self.name, reason)
                    self._set("failed", reason)
                    await self.on_change(self)
                self.first_attempt.set()
                logger.info("backend %s: reconnecting in %gs", self.name, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, self.connection.reconnect.max_delay)
                self._set("connecting", self.error)

    def stop(self) -> None:
        self._scope.cancel()
        self._set("stopped", None)
        self.first_attempt.set()

    async def _serve_one_session(self) -> None:
        # The deadline covers spawning, the handshake and the first listing;
        # once ready, the session lives until it is lost.
        timeout = self.connection.timeout
        with anyio.CancelScope(deadline=anyio.current_time() + timeout) as connecting:
            async with self._connect() as client:
                catalog = await fetch_catalog(client)
                connecting.deadline = math.inf
                self._lost, self._stale = None, False
                self._set("ready", None, client, catalog)
                self.connects += 1
                logger.info(
                    "backend %s ready (%s): %d tools, %d prompts, %d resources",
                    self.name,
                    self.connection.transport,
                    len(catalog.tools),
                    len(catalog.prompts),
                    len(catalog.resources) + len(catalog.templates),
                )
                await self.on_change(self)
                self.first_attempt.set()
                try:
                    await self._watch(client)
                finally:
                    if self.client is client:  # unavailable from now on, before the session takes its time to close
                        self._set("failed", self._lost or "the session ended")
        if connecting.cancelled_caught:
            raise TimeoutError(f"no answer within {timeout:g}s")

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Client]:
        spec = self.connection.spec
        target = client_for(spec)
        callbacks: dict[str, Any] = {
            "mode": "legacy",
            "cache": None,  # a proxy must see every change: no client-side response cache
            "message_handler": self._on_message,
            "logging_callback": self.inflight.log,
            "elicitation_callback": self.inflight.elicit,
            "sampling_callback": self.inflight.sample,
        }
        if isinstance(target, StdioServerParameters):
            # Every command the proxy runs, logged as the config wrote it: a ${VAR} stays unexpanded, so no
            # secret lands in the log (the security best practices: "Log all stdio transport usage").
            logger.info("backend %s: running %s", self.name, shlex.join([spec.command or "", *spec.args]))
            async with Client(target, **callbacks) as client:
                yield client
            return
        # Only this backend's own configured headers: never the caller's Authorization.
        headers = {key: expand(value, f"headers.{key}") for key, value in spec.headers.items()}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=None)) as http,
            Client(streamable_http_client(target, http_client=http), **callbacks) as client,
        ):
            yield client

    async def _watch(self, client: Client) -> None:
        """Until the session is lost: refresh the catalog when told to, ping when idle."""
        while True:
            with anyio.move_on_after(self.connection.health_interval):
                await self._wake.wait()
            self._wake = anyio.Event()
            if self._lost:
                raise BackendLost(self._lost)
            with anyio.fail_after(self.connection.timeout):
                if self._stale:
                    self._stale = False
                    catalog = await fetch_catalog(client)
                    if self.client is client:
                        self.catalog = catalog
                        await self.on_change(self)
                else:
                    await client.send_ping()

    def _set(self, state: State, error: str | None, client: Client | None = None, catalog: Catalog = NOTHING) -> None:
        """The one place state, session and catalog change: together, with no await in between."""
        if state != self.state:
            self.since = datetime.datetime.now(datetime.UTC)
        self.state, self.error, self.client, self.catalog = state, error, client, catalog

    async def _lose(self, client: Client, reason: str) -> None:
        """This session is gone: unavailable at once, everywhere; the watch loop then ends it."""
        if self.client is not client:
            return  # already lost, or a call on an older session failing late
        self._set("failed", reason)
        self._lost = reason
        self._wake.set()
        await self.on_change(self)

    # -- the catalog -------------------------------------------------------

    async def _on_message(self, message: object) -> None:
        # Runs on the session's reader: it must not wait for a response itself,
        # so it only flags the catalog stale, or the session lost, and wakes the watch loop.
        if isinstance(
            message, ToolListChangedNotification | PromptListChangedNotification | ResourceListChangedNotification
        ):
            logger.info("backend %s: %s", self.name, message.method)
            self._stale = True
            self._wake.set()
        elif isinstance(message, Exception):
            self._lost = describe(message)
            self._wake.set()

    # -- forwarding --------------------------------------------------------

    def unavailable(self) -> str:
        return f"Backend {self.name} is unavailable ({self.state}: {self.error}); try again later"

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], name: str, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        """Forward one call; anything that goes wrong on the way is a tool error the model can read."""
        client = self.client
        if client is None:
            return tool_error(self.unavailable())
        timeout = self.connection.timeout
        if self.connection.log_calls:
            logger.info("-> %s: tools/call %s", self.name, name)
        with self.inflight.serving(ctx):
            try:
                result = await client.call_tool(
                    name, arguments, read_timeout_seconds=timeout, progress_callback=progress_relay(ctx)
                )
                return from_backend(result, self.name, name)
            except MCPError as error:
                if error.code == REQUEST_TIMEOUT:
                    return tool_error(f"Backend {self.name} did not answer {name} within {timeout:g}s")
                if error.code == CONNECTION_CLOSED:
                    await self._lose(client, "connection closed during a call")
                    return tool_error(f"Backend {self.name} went away during the call; reconnecting")
                raise  # the backend's own JSON-RPC error, passed on as it is
            except RuntimeError as error:  # the SDK found the result does not match the tool's output schema
                return tool_error(f"Backend {self.name} answered {name} with an invalid result: {error}")
            except Exception as error:
                await self._lose(client, describe(error))
                return tool_error(f"Backend {self.name} failed during the call: {describe(error)}")

    async def request(self, send: Callable[[Client], Awaitable[Any]]) -> Any:
        """Forward a prompts/resources/completion request: failures are JSON-RPC errors."""
        client = self.client
        if client is None:
            raise MCPError(CONNECTION_CLOSED, self.unavailable())
        try:
            with anyio.fail_after(self.connection.timeout):
                return await send(client)
        except TimeoutError:
            raise MCPError(
                REQUEST_TIMEOUT, f"Backend {self.name} did not answer within {self.connection.timeout:g}s"
            ) from None
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                await self._lose(client, "connection closed during a request")
            raise

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "transport": self.connection.transport,
            "tools": len(self.catalog.tools),
            "since": self.since.isoformat(timespec="seconds"),
            "connects": self.connects,
            "error": self.error,
        }


def from_backend(result: CallToolResult, backend: str, tool: str) -> CallToolResult:
    """The result, marked in its `_meta` as text a backend wrote: data for the host, never the user's word.

    A tool's result can carry instructions for the model (a document, a web page, an e-mail). The
    mark cannot stop a model from following them; it tells the host where the text came from, so the
    host can show it as such and weigh what the model does next (approval.py stops the calls that
    matter). Whatever the backend put under this key itself is replaced: only the proxy marks.
    """
    origin = {"backend": backend, "name": tool, "untrusted": True}
    return result.model_copy(update={"meta": {**(result.meta or {}), META_KEY: origin}})


def progress_relay(ctx: ServerRequestContext[Any, Any]) -> ProgressFnT | None:
    """Pass the backend's progress on to the caller, if the caller asked for progress at all.

    Without a callback the SDK sends the backend no progress token, so a backend
    that would report progress to nobody does not.
    """
    if not (ctx.meta or {}).get("progress_token"):
        return None

    async def relay(value: float, total: float | None, message: str | None) -> None:
        await ctx.session.report_progress(value, total, message)

    return relay


async def fetch_catalog(client: Client) -> Catalog:
    """The whole catalog, every page of each list: a proxy must not drop a cursor."""
    capabilities = client.server_capabilities
    listed: dict[str, list[Tool]] = {}
    for tool in await drain(client.list_tools, "tools") if capabilities.tools else []:
        listed.setdefault(tool.name, []).append(tool)
    # One name, two definitions: a call could reach either, so neither is served.
    tools = [entries[0] for entries in listed.values() if len(entries) == 1]
    return Catalog(
        tools=tuple(tools),
        digests={tool.name: digest(tool) for tool in tools},
        duplicated={name: tuple(entries) for name, entries in listed.items() if len(entries) > 1},
        prompts=tuple(await drain(client.list_prompts, "prompts") if capabilities.prompts else ()),
        resources=tuple(await drain(client.list_resources, "resources") if capabilities.resources else ()),
        templates=tuple(
            await drain(client.list_resource_templates, "resource_templates") if capabilities.resources else ()
        ),
    )


async def drain(list_page: Callable[..., Awaitable[Any]], attribute: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await list_page(cursor=cursor)
        items.extend(getattr(page, attribute))
        cursor = page.next_cursor
        if cursor is None:
            break
    return items


def describe(error: BaseException) -> str:
    """The innermost error of an exception group, as one line."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
