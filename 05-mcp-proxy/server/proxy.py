"""The proxy: every backend, each caller's view of them, and the clients to tell of changes.

The backends run on their own (backends.py); the proxy starts them all at once,
restarts the ones a reload changes, and keeps one view per admission (view.py):
built on its first request, dropped whenever a catalog, the pins or the
config change, so it is never stale and never recomputed on a request that
changes nothing.

When the merged catalog changes, the proxy tells every connected client
`notifications/tools/list_changed` (and prompts, resources): 2026-07-28 clients
on their `subscriptions/listen` stream, handshake-era clients on their session's
stream. Clients then list again.
"""

import logging
from collections import OrderedDict
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
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .backends import Backend
from .config import load_config
from .pinning import PinStore, definition
from .settings import ProxySettings
from .shadowing import names_of_other_servers
from .view import Admission, View

logger = logging.getLogger(__name__)

MAX_AUDIENCE = 1000  # handshake-era sessions remembered for list_changed, most recent first


class Proxy:
    def __init__(self, settings: ProxySettings, config_path: Path | None, pins: PinStore, operator: str) -> None:
        self.settings = settings
        self.config_path = config_path
        self.pins = pins
        self.operator = operator  # how an operator runs `pins` and `approve` on this proxy's files
        self.backends: dict[str, Backend] = {}
        self.bus = InMemorySubscriptionBus()
        # One view per admission. Admissions differ only by endpoint and by which configured
        # tokens a caller holds, so there are a handful, however many requests arrive.
        self._views: dict[Admission, View] = {}
        self._audience: OrderedDict[str, ServerSession] = OrderedDict()
        self._shown: dict[str, Any] = {}  # what clients were last told about
        self._group: anyio.abc.TaskGroup | None = None

    # -- lifecycle ---------------------------------------------------------

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Start every backend at once; report started when each has had its first try."""
        async with anyio.create_task_group() as group:
            self._group = group
            for name in self.settings.backends:
                self._start(name)
            await self.wait_for_first_attempts()
            settings = self.settings.backends
            required = [name for name, b in self.backends.items() if settings[name].required and b.state != "ready"]
            if required:
                raise RuntimeError(f"required backend(s) failed to start (panicIfInvalid): {', '.join(required)}")
            task_status.started()
            group.start_soon(self._watch_pins)

    async def wait_for_first_attempts(self) -> None:
        for backend in list(self.backends.values()):
            await backend.first_attempt.wait()

    def _start(self, name: str) -> None:
        assert self._group is not None
        backend = Backend(self.settings.backends[name], self.catalog_changed)
        self.backends[name] = backend
        self._group.start_soon(backend.run)

    async def reload(self) -> None:
        """SIGHUP: re-read the config; restart only the backends whose connection changed."""
        if self.config_path is None:
            return
        try:
            new = ProxySettings.from_config(load_config(self.config_path))
        except ValueError as error:
            logger.error("reload: %s keeps running on the previous config:\n%s", self.config_path, error)
            return
        old, self.settings = self.settings, new
        for name, backend in list(self.backends.items()):
            if name not in new.backends or new.backends[name].connection != old.backends[name].connection:
                backend.stop()
                del self.backends[name]
        for name in new.backends:
            if name not in self.backends:
                self._start(name)
        self.pins.reload_if_changed()
        self._views.clear()  # tokens and filters may have changed without any backend restarting
        logger.info("reloaded %s: backends %s", self.config_path, ", ".join(new.backends) or "(none)")
        await self.wait_for_first_attempts()
        await self.announce()

    async def _watch_pins(self) -> None:
        # An operator approving a change writes the pins file: show the tool again.
        while True:
            await anyio.sleep(1)
            if self.pins.reload_if_changed():
                logger.info("pins file changed: %s", self.pins.path)
                self._views.clear()
                await self.announce()

    # -- what each caller sees ----------------------------------------------

    def view(self, admission: Admission) -> View:
        """What an `admission` shows: built on first use, kept until a catalog, the pins or the config change."""
        view = self._views.get(admission)
        if view is None:
            view = self._views[admission] = View(admission, self.backends, self.settings, self.pins, self.operator)
        return view

    async def catalog_changed(self, backend: Backend) -> None:
        """A backend connected, was lost, or re-listed: record new tools' pins, rebuild views, tell clients."""
        catalog = backend.catalog
        for name, entries in catalog.duplicated.items():
            logger.warning(
                "backend %s lists tool %s %d times: refused, a possible rug pull", backend.name, name, len(entries)
            )
        if self.settings.pin_tools:
            self.observe_pins()
        self._views.clear()
        await self.announce()

    def observe_pins(self) -> None:
        """Pin every ready backend's tools (pinning.py), holding those that name another server's (shadowing.py).

        Every backend's, not only the one that changed: a tool's own name can be recognised once its
        server lists it, so a server that connects can make another server's description suspect."""
        separator, trust_new = self.settings.separator, not self.settings.approve_new_tools
        listed = {name: [tool.name for tool in self.backends[name].catalog.tools] for name in self.backends}
        others = {name: listed.get(name, []) for name in self.settings.backends}  # the configured, ready or not
        for backend in self.backends.values():
            catalog = backend.catalog
            if not (catalog.tools or catalog.duplicated):
                continue
            naming = {
                tool.name: names
                for tool in catalog.tools
                if (names := names_of_other_servers(definition(tool), backend.name, others, separator))
            }
            self.pins.observe(backend.name, catalog.tools, trust_new, catalog.duplicated, naming)

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

    async def announce(self) -> None:
        """Tell every client which lists changed since the last time they were told."""
        everything = self.view(Admission(backend=None, admitted=frozenset(self.backends)))
        shown = {
            "tools": everything.tools(),
            "prompts": everything.prompts(),
            "resources": [*everything.resources(), *everything.templates()],
        }
        changed = [kind for kind in shown if shown[kind] != self._shown.get(kind, [])]
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
        """Each backend's state, and its tools held for an operator (new, changed, listed twice, naming others')."""
        held = self.view(Admission(backend=None, admitted=frozenset(self.backends))).held_by_backend
        backends = {name: {**backend.health(), "held": held.get(name, [])} for name, backend in self.backends.items()}
        ready = all(b["state"] == "ready" for b in backends.values())
        return {"status": "ok" if ready else "degraded", "proxy": self.settings.name, "backends": backends}
