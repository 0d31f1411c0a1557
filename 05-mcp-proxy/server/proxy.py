"""The proxy: every backend, the catalog it shows each caller, and the callers to tell of changes.

What a caller sees is computed on each request from the backends' cached
catalogs, so it is never stale and never frozen at startup:

    every ready backend the caller's token admits (auth.py)
      -> its tools, minus those the tool filter hides (filters.py)
      -> minus those whose definition changed since approved (pinning.py)
      -> renamed backend__tool (names.py), unless the caller came through /<backend>/mcp

When a backend's catalog changes, the proxy tells every connected client
`notifications/tools/list_changed` (and prompts, resources): 2026-07-28 clients
on their `subscriptions/listen` stream, handshake-era clients on their session's
stream. Clients then list again.
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    PromptsListChanged,
    ResourcesListChanged,
    ToolsListChanged,
)
from mcp_types import Tool
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .backends import Backend
from .config import Config, load_config
from .filters import allowed
from .names import exposed_name
from .pinning import PinStore

logger = logging.getLogger(__name__)

META_KEY = "mcp-workshop/proxy"  # in each exposed tool's _meta: where it really lives
MAX_AUDIENCE = 1000  # handshake-era sessions remembered for list_changed, most recent first


@dataclass(frozen=True)
class Route:
    backend: Backend
    item: Any  # the backend's own Tool or Prompt

    def shown_as(self, name: str) -> Any:
        """The item under the name the caller sees, with a note in `_meta` of where it lives."""
        meta = {**(self.item.meta or {}), META_KEY: {"backend": self.backend.name, "name": self.item.name}}
        return self.item.model_copy(update={"name": name, "meta": meta})


class Proxy:
    def __init__(self, config: Config, config_path: Path | None, pins_path: Path) -> None:
        self.config = config
        self.config_path = config_path
        self.pins = PinStore(pins_path)
        self.backends: dict[str, Backend] = {}
        self.bus = InMemorySubscriptionBus()
        self._audience: OrderedDict[str, ServerSession] = OrderedDict()
        self._shown: dict[str, Any] = {"tools": {}, "prompts": {}, "resources": []}  # what clients last saw
        self._group: anyio.abc.TaskGroup | None = None

    # -- lifecycle ---------------------------------------------------------

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start every backend at once; report started when each has had its first try."""
        async with anyio.create_task_group() as group:
            self._group = group
            for name in self.config.mcp_servers:
                self._start(name)
            await self.wait_for_first_attempts()
            required = [b.name for b in self.backends.values() if self.config.required(b.name) and b.state != "ready"]
            if required:
                raise RuntimeError(f"required backend(s) failed to start (panicIfInvalid): {', '.join(required)}")
            task_status.started()
            group.start_soon(self._watch_pins)

    async def wait_for_first_attempts(self) -> None:
        for backend in list(self.backends.values()):
            await backend.first_attempt.wait()

    def _start(self, name: str) -> None:
        assert self._group is not None
        backend = Backend(name, self.config, self.catalog_changed)
        self.backends[name] = backend
        self._group.start_soon(backend.run)

    async def reload(self) -> None:
        """SIGHUP: re-read the config; restart only the backends whose settings changed."""
        if self.config_path is None:
            return
        try:
            new = load_config(self.config_path)
        except ValueError as error:
            logger.error("reload: %s keeps running on the previous config:\n%s", self.config_path, error)
            return
        old, self.config = self.config, new
        for name, backend in list(self.backends.items()):
            if name not in new.mcp_servers or Backend.settings(new, name) != Backend.settings(old, name):
                backend.stop()
                del self.backends[name]
        for name in new.mcp_servers:
            if name not in self.backends:
                self._start(name)
        self.pins.reload_if_changed()
        logger.info("reloaded %s: backends %s", self.config_path, ", ".join(new.mcp_servers) or "(none)")
        await self.wait_for_first_attempts()
        await self.announce()

    async def _watch_pins(self) -> None:
        # An operator approving a change writes the pins file: show the tool again.
        while True:
            await anyio.sleep(1)
            if self.pins.reload_if_changed():
                logger.info("pins file changed: %s", self.pins.path)
                await self.announce()

    # -- what each caller sees ----------------------------------------------

    def tools(self, view: str | None, visible: frozenset[str]) -> dict[str, Route]:
        """Exposed name -> route, for the tools this caller may see and call."""
        separator = self.config.mcp_proxy.options.tool_name_separator
        return {
            tool.name if view else exposed_name(backend.name, tool.name, separator): Route(backend, tool)
            for backend in self.backends_in(view, visible)
            for tool in backend.tools
            if self.exposes(backend, tool)
        }

    def prompts(self, view: str | None, visible: frozenset[str]) -> dict[str, Route]:
        separator = self.config.mcp_proxy.options.tool_name_separator
        return {
            prompt.name if view else exposed_name(backend.name, prompt.name, separator): Route(backend, prompt)
            for backend in self.backends_in(view, visible)
            for prompt in backend.prompts
        }

    def exposes(self, backend: Backend, tool: Tool) -> bool:
        if not allowed(self.config.filter_for(backend.name), tool.name):
            return False
        pinning = self.config.mcp_proxy.options.pin_tools
        return not pinning or self.pins.is_approved(backend.name, tool.name, backend.digests[tool.name])

    def why_not(self, view: str | None, visible: frozenset[str], name: str) -> str:
        """Why `name` is not callable: its backend is down, its definition changed, or it is unknown."""
        separator = self.config.mcp_proxy.options.tool_name_separator
        for backend_name in [view] if view else visible:
            backend = self.backends.get(backend_name)
            if backend is None or backend_name not in visible:
                continue
            if backend.state != "ready" and (view or name.startswith(backend_name + separator)):
                return f"Backend {backend_name} is unavailable ({backend.state}: {backend.error}); try again later"
            for tool in backend.tools:
                exposed = tool.name if view else exposed_name(backend_name, tool.name, separator)
                if exposed == name and allowed(self.config.filter_for(backend_name), tool.name):
                    return (
                        f"Tool {name} is refused: its definition changed since it was approved "
                        "(a possible rug pull). An operator can review the change with "
                        "`python -m 05-mcp-proxy.server pins` and accept it with "
                        f"`python -m 05-mcp-proxy.server approve {exposed_name(backend_name, tool.name, separator)}`."
                    )
        return f"Unknown tool: {name}"

    def backend_for(self, view: str | None, visible: frozenset[str], backend_name: str) -> Backend | None:
        return next((b for b in self.backends_in(view, visible) if b.name == backend_name), None)

    def backends_in(self, view: str | None, visible: frozenset[str]) -> list[Backend]:
        names = [view] if view else list(self.backends)
        return [self.backends[n] for n in names if n in visible and n in self.backends and self.backends[n].client]

    # -- telling clients ------------------------------------------------------

    def remember(self, ctx: ServerRequestContext[Any, Any]) -> None:
        """A handshake-era session to tell about list changes (2026-07-28 ones subscribe instead)."""
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS or ctx.request is None:
            return
        session_id = ctx.request.headers.get("mcp-session-id")
        if session_id:
            self._audience[session_id] = ctx.session
            self._audience.move_to_end(session_id)
            while len(self._audience) > MAX_AUDIENCE:
                self._audience.popitem(last=False)

    async def catalog_changed(self, backend: Backend) -> None:
        if self.config.mcp_proxy.options.pin_tools and backend.tools:
            self.pins.observe(backend.name, backend.tools)
        await self.announce()

    async def announce(self) -> None:
        """Tell every client which lists changed since the last time they were told."""
        everyone = frozenset(self.backends)
        shown = {
            "tools": {name: route.item for name, route in self.tools(None, everyone).items()},
            "prompts": {name: route.item for name, route in self.prompts(None, everyone).items()},
            "resources": [
                (b.name, b.resources, b.templates)
                for b in self.backends_in(None, everyone)
                if b.resources or b.templates
            ],
        }
        changed = [kind for kind in shown if shown[kind] != self._shown.get(kind)]
        self._shown = shown
        events = {"tools": ToolsListChanged(), "prompts": PromptsListChanged(), "resources": ResourcesListChanged()}
        for kind in changed:
            logger.info("%s list changed: telling clients", kind)
            await self.bus.publish(events[kind])
            for session in list(self._audience.values()):
                await {
                    "tools": session.send_tool_list_changed,
                    "prompts": session.send_prompt_list_changed,
                    "resources": session.send_resource_list_changed,
                }[kind]()

    def health(self) -> dict[str, Any]:
        backends = {name: backend.health() for name, backend in self.backends.items()}
        ready = all(b["state"] == "ready" for b in backends.values())
        return {"status": "ok" if ready else "degraded", "proxy": self.config.mcp_proxy.name, "backends": backends}
