"""One backend: its connection, its catalog, and the loop that keeps it alive.

Each backend runs in its own task, so a slow or broken one delays nobody else:

    connecting --(initialize + list within `timeout`)--> ready
    ready --(ping fails or times out, the process dies, a call finds it gone)--> failed
    failed --(wait: 0.5 s, 1 s, 2 s ... up to reconnect.maxDelay)--> connecting

Reconnecting means a new session from scratch: a stdio backend is spawned
again, an HTTP backend gets a fresh `initialize` (and so a new Mcp-Session-Id).
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
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.server import ServerRequestContext
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

from .config import BackendConfig, Config, expand
from .pinning import digest
from .relay import InFlight

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


class Backend:
    def __init__(self, name: str, config: Config, on_change: Callable[["Backend"], Awaitable[None]]) -> None:
        self.name = name
        self.spec = config.mcp_servers[name]
        self.timeout = config.timeout_for(name)
        self.logs_calls = config.logs_calls(name)
        self.health_interval = config.mcp_proxy.options.health_interval
        self.reconnect = config.mcp_proxy.options.reconnect
        self.on_change = on_change
        self.inflight = InFlight(name)
        self.client: Client | None = None
        self.state: State = "connecting"
        self.error: str | None = None
        self.since = datetime.datetime.now(datetime.UTC)
        self.connects = 0
        self.tools: list[Tool] = []
        self.digests: dict[str, str] = {}  # tool name -> SHA-256 of its definition (pinning.py)
        self.prompts: list[Prompt] = []
        self.resources: list[Resource] = []
        self.templates: list[ResourceTemplate] = []
        self.first_attempt = anyio.Event()  # set once the first connection succeeded or failed
        self._scope = anyio.CancelScope()
        self._wake = anyio.Event()
        self._stale = False
        self._lost: str | None = None

    @staticmethod
    def settings(config: Config, name: str) -> tuple[Any, ...]:
        """Everything a running backend took from the config: a reload restarts it if any differs."""
        options = config.mcp_proxy.options
        spec = config.mcp_servers[name]
        return spec, config.timeout_for(name), config.logs_calls(name), options.health_interval, options.reconnect

    # -- lifecycle ---------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, and reconnect with backoff, until `stop()`."""
        delay = self.reconnect.initial_delay
        with self._scope:
            while True:
                try:
                    await self._serve_one_session()
                except Exception as error:
                    reason = describe(error)
                    if self.state == "ready":
                        logger.warning("backend %s lost: %s", self.name, reason)
                        delay = self.reconnect.initial_delay  # it was up: start the backoff afresh
                    else:
                        logger.warning("backend %s failed to connect: %s", self.name, reason)
                    await self._set_state("failed", reason)
                self.first_attempt.set()
                logger.info("backend %s: reconnecting in %gs", self.name, delay)
                await anyio.sleep(delay)
                delay = min(delay * 2, self.reconnect.max_delay)
                await self._set_state("connecting", self.error)

    def stop(self) -> None:
        self._scope.cancel()
        self.state = "stopped"
        self.first_attempt.set()

    async def _serve_one_session(self) -> None:
        # The deadline covers spawning, the handshake and the first listing;
        # once ready, the session lives until it is lost.
        with anyio.CancelScope(deadline=anyio.current_time() + self.timeout) as connecting:
            async with self._connect() as client:
                await self._refresh(client)
                connecting.deadline = math.inf
                self.client, self._lost, self._stale = client, None, False
                self.connects += 1
                logger.info(
                    "backend %s ready (%s): %d tools, %d prompts, %d resources",
                    self.name,
                    self.spec.transport,
                    len(self.tools),
                    len(self.prompts),
                    len(self.resources) + len(self.templates),
                )
                await self._set_state("ready", None)
                self.first_attempt.set()
                try:
                    await self._watch(client)
                finally:
                    self.client = None
        if connecting.cancelled_caught:
            raise TimeoutError(f"no answer within {self.timeout:g}s")

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Client]:
        target = client_for(self.spec)
        callbacks: dict[str, Any] = {
            "mode": "legacy",
            "cache": None,  # a proxy must see every change: no client-side response cache
            "message_handler": self._on_message,
            "logging_callback": self.inflight.log,
            "elicitation_callback": self.inflight.elicit,
            "sampling_callback": self.inflight.sample,
        }
        if isinstance(target, StdioServerParameters):
            async with Client(target, **callbacks) as client:
                yield client
            return
        # Only this backend's own configured headers: never the caller's Authorization.
        headers = {key: expand(value, f"headers.{key}") for key, value in self.spec.headers.items()}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=None)) as http,
            Client(streamable_http_client(target, http_client=http), **callbacks) as client,
        ):
            yield client

    async def _watch(self, client: Client) -> None:
        """Until the session is lost: refresh the catalog when told to, ping when idle."""
        while True:
            with anyio.move_on_after(self.health_interval):
                await self._wake.wait()
            self._wake = anyio.Event()
            if self._lost:
                raise BackendLost(self._lost)
            with anyio.fail_after(self.timeout):
                if self._stale:
                    self._stale = False
                    await self._refresh(client)
                    await self.on_change(self)
                else:
                    await client.send_ping()

    def _mark_lost(self, reason: str) -> None:
        self._lost = reason
        self._wake.set()

    async def _set_state(self, state: State, error: str | None) -> None:
        changed = state != self.state
        self.state, self.error = state, error
        if changed:
            self.since = datetime.datetime.now(datetime.UTC)
            if state != "ready":
                self.tools, self.prompts, self.resources, self.templates = [], [], [], []
            await self.on_change(self)

    # -- the catalog -------------------------------------------------------

    async def _on_message(self, message: object) -> None:
        # Runs on the session's reader: it must not wait for a response itself,
        # so it only flags the catalog stale and wakes the watch loop.
        if isinstance(
            message, ToolListChangedNotification | PromptListChangedNotification | ResourceListChangedNotification
        ):
            logger.info("backend %s: %s", self.name, message.method)
            self._stale = True
            self._wake.set()
        elif isinstance(message, Exception):
            self._mark_lost(describe(message))

    async def _refresh(self, client: Client) -> None:
        """Fetch the whole catalog, every page of it: a proxy must not drop a cursor."""
        capabilities = client.server_capabilities
        self.tools = await drain(client.list_tools, "tools") if capabilities.tools else []
        self.digests = {tool.name: digest(tool) for tool in self.tools}
        self.prompts = await drain(client.list_prompts, "prompts") if capabilities.prompts else []
        if capabilities.resources:
            self.resources = await drain(client.list_resources, "resources")
            self.templates = await drain(client.list_resource_templates, "resource_templates")
        else:
            self.resources, self.templates = [], []

    # -- forwarding --------------------------------------------------------

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], name: str, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        """Forward one call; anything that goes wrong on the way is a tool error the model can read."""
        client = self.client
        if client is None:
            return tool_error(f"Backend {self.name} is unavailable ({self.state}: {self.error}); try again later")

        async def progress(value: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(value, total, message)  # a no-op unless the caller asked

        if self.logs_calls:
            logger.info("-> %s: tools/call %s", self.name, name)
        with self.inflight.serving(ctx):
            try:
                return await client.call_tool(
                    name, arguments, read_timeout_seconds=self.timeout, progress_callback=progress
                )
            except MCPError as error:
                if error.code == REQUEST_TIMEOUT:
                    return tool_error(f"Backend {self.name} did not answer {name} within {self.timeout:g}s")
                if error.code == CONNECTION_CLOSED:
                    self._mark_lost("connection closed during a call")
                    return tool_error(f"Backend {self.name} went away during the call; reconnecting")
                raise  # the backend's own JSON-RPC error, passed on as it is
            except RuntimeError as error:  # the SDK found the result does not match the tool's output schema
                return tool_error(f"Backend {self.name} answered {name} with an invalid result: {error}")
            except Exception as error:
                self._mark_lost(describe(error))
                return tool_error(f"Backend {self.name} failed during the call: {describe(error)}")

    async def request(self, send: Callable[[Client], Awaitable[Any]]) -> Any:
        """Forward a prompts/resources/completion request: failures are JSON-RPC errors."""
        client = self.client
        if client is None:
            raise MCPError(CONNECTION_CLOSED, f"Backend {self.name} is unavailable ({self.state})")
        try:
            with anyio.fail_after(self.timeout):
                return await send(client)
        except TimeoutError:
            raise MCPError(REQUEST_TIMEOUT, f"Backend {self.name} did not answer within {self.timeout:g}s") from None
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                self._mark_lost("connection closed during a request")
            raise

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "transport": self.spec.transport,
            "tools": len(self.tools),
            "since": self.since.isoformat(timespec="seconds"),
            "connects": self.connects,
            "error": self.error,
        }


async def drain(list_page: Callable[..., Awaitable[Any]], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await list_page(cursor=cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if cursor is None:
            break
    return items


def describe(error: BaseException) -> str:
    """The innermost error of an exception group, as one line."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
