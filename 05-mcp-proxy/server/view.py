"""What one caller sees: the backends their token admits, under the names they call things by.

What the gate (gate.py) admits a caller to, their `Admission`, is the endpoint
they came through (`/mcp` for every backend, `/<backend>/mcp` for one under its
own names) and the backends their token admits. The gate works that out for each
HTTP request and sets `admission`; the MCP handlers (app.py) ask the proxy for
the view of that admission, which is built once from the backends' cached catalogs:

    every ready backend the caller's token admits
      -> its tools, minus those the tool filter hides           (filters.py)
      -> minus those awaiting approval: changed since approved,  (pinning.py)
         naming another server's tools (shadowing.py),
         or, with approveNewTools, never approved
      -> minus any name the backend lists twice             (backends.py)
      -> renamed backend__tool (names.py), unless the caller came through /<backend>/mcp

and then answers every request of that caller, listing and routing alike, until
something it was built from changes: a catalog, the pins or the config (the
proxy then drops every view, proxy.py). A filtered tool is simply absent, so it
answers "Unknown tool" exactly like a tool that does not exist; a tool held back
by its pin (changed, or new with approveNewTools) or listed twice is absent too,
but `why_not` says why, and what an operator can do.
"""

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp_types import Prompt, Resource, ResourceTemplate, Tool

from .backends import Backend
from .filters import allowed
from .names import META_KEY, exposed_name, exposed_uri, split_uri
from .pinning import PinStore
from .settings import ProxySettings


@dataclass(frozen=True)
class Admission:
    """What the gate admits a caller to: all the proxy cares about who is asking."""

    backend: str | None  # None: the merged /mcp; else the one backend of /<backend>/mcp
    admitted: frozenset[str]  # the backends this caller's token admits


NOBODY = Admission(backend=None, admitted=frozenset())

# Set for each HTTP request by the gate (gate.py); read by the MCP handlers (app.py).
admission: ContextVar[Admission] = ContextVar("admission", default=NOBODY)


@dataclass(frozen=True)
class Route:
    """Where a name the caller uses leads: a backend, and that backend's own name for it."""

    backend: Backend
    name: str


def shown(item: Tool | Prompt, name: str, backend: str) -> Any:
    """The item under the name the caller sees, with a note in `_meta` of where it lives."""
    meta = {**(item.meta or {}), META_KEY: {"backend": backend, "name": item.name}}
    return item.model_copy(update={"name": name, "meta": meta})


class View:
    def __init__(
        self,
        admission: Admission,
        backends: Mapping[str, Backend],
        settings: ProxySettings,
        pins: PinStore,
        operator: str,
    ) -> None:
        self.admission = admission
        self._separator = settings.separator
        self._operator = operator  # the command line an operator reviews and approves pins with
        names = [admission.backend] if admission.backend else list(backends)
        self._admitted = {name: backends[name] for name in names if name in admission.admitted and name in backends}
        ready = [backend for backend in self._admitted.values() if backend.state == "ready"]

        self._tools: dict[str, Route] = {}
        self._listed_tools: list[Tool] = []
        # Tools held back: exposed name -> why, as a call to it is refused; and by backend, for /healthz.
        self._held: dict[str, str] = {}
        self.held_by_backend: dict[str, list[str]] = {}
        for backend in ready:
            tool_filter = settings.backends[backend.name].tool_filter
            for tool in backend.catalog.tools:
                if not allowed(tool_filter, tool.name):
                    continue
                name = self._name(backend.name, tool.name)
                digest = backend.catalog.digests[tool.name]
                if settings.pin_tools and not pins.is_approved(backend.name, tool.name, digest):
                    self._held[name] = self._awaiting_approval(name, backend.name, tool.name, pins)
                    self.held_by_backend.setdefault(backend.name, []).append(name)
                    continue
                self._tools[name] = Route(backend, tool.name)
                self._listed_tools.append(shown(tool, name, backend.name))
            for tool_name, entries in backend.catalog.duplicated.items():  # never served, whatever the pins say
                if allowed(tool_filter, tool_name):
                    name = self._name(backend.name, tool_name)
                    self._held[name] = self._listed_twice(name, len(entries), settings.pin_tools)
                    self.held_by_backend.setdefault(backend.name, []).append(name)

        self._prompts: dict[str, Route] = {}
        self._listed_prompts: list[Prompt] = []
        for backend in ready:
            for prompt in backend.catalog.prompts:
                name = self._name(backend.name, prompt.name)
                self._prompts[name] = Route(backend, prompt.name)
                self._listed_prompts.append(shown(prompt, name, backend.name))

        self._resources = [
            resource.model_copy(update={"uri": self.shown_uri(backend, resource.uri)})
            for backend in ready
            for resource in backend.catalog.resources
        ]
        self._templates = [
            template.model_copy(update={"uri_template": self.shown_uri(backend, template.uri_template)})
            for backend in ready
            for template in backend.catalog.templates
        ]

    def _name(self, backend: str, name: str) -> str:
        return name if self.admission.backend else exposed_name(backend, name, self._separator)

    def _awaiting_approval(self, name: str, backend: str, tool: str, pins: PinStore) -> str:
        if names := pins.names_of_others(backend, tool):
            why = f"its description names another server's tool ({', '.join(names)}): a possible tool shadowing"
            what = "it"
        elif pins.is_new(backend, tool):
            why, what = "it is new, and this proxy serves no tool before an operator approved it", "it"
        else:
            why, what = "its definition changed since it was approved (a possible rug pull)", "the change"
        return (
            f"Tool {name} is refused: {why}. An operator can review {what} with `{self._operator} pins` "
            f"and accept it with `{self._operator} approve {exposed_name(backend, tool, self._separator)}`."
        )

    def _listed_twice(self, name: str, times: int, pinned: bool) -> str:
        review = f" An operator can review them with `{self._operator} pins`." if pinned else ""
        return (
            f"Tool {name} is refused: its server lists {times} tools of that name, and a call could reach any of "
            f"them (a possible rug pull). It is served again once its server lists it once.{review}"
        )

    # -- listing -------------------------------------------------------------

    def tools(self) -> list[Tool]:
        return self._listed_tools

    def prompts(self) -> list[Prompt]:
        return self._listed_prompts

    def resources(self) -> list[Resource]:
        return self._resources

    def templates(self) -> list[ResourceTemplate]:
        return self._templates

    # -- routing -------------------------------------------------------------

    def tool(self, name: str) -> Route | None:
        return self._tools.get(name)

    def prompt(self, name: str) -> Route | None:
        return self._prompts.get(name)

    def backend(self, name: str) -> Backend | None:
        """The backend of that name, if this caller may use it and it is ready."""
        backend = self._admitted.get(name)
        return backend if backend is not None and backend.state == "ready" else None

    def resource(self, uri: str) -> tuple[Backend, str] | None:
        """The backend a resource URI (or template) routes to, and the URI as that backend knows it."""
        if self.admission.backend:
            backend_name, own_uri = self.admission.backend, uri
        else:
            backend_name, own_uri = split_uri(uri) or ("", "")
        backend = self.backend(backend_name)
        return (backend, own_uri) if backend is not None else None

    def shown_uri(self, backend: Backend, uri: str) -> str:
        """A backend's URI as this caller knows it: prefixed with the backend on /mcp."""
        return uri if self.admission.backend else exposed_uri(backend.name, uri)

    def why_not(self, name: str) -> str:
        """Why `name` is no tool this caller can call: held back (by its pin, or listed twice), its backend is not
        ready, or unknown.

        Only a ready backend's tools can be held back, so a backend that is down or
        reconnecting reads as unavailable, never as a definition that changed.
        """
        if name in self._held:
            return self._held[name]
        if self.admission.backend:
            owner = self._admitted.get(self.admission.backend)
        else:
            prefix, separator, _ = name.partition(self._separator)
            owner = self._admitted.get(prefix) if separator else None
        if owner is not None and owner.state != "ready":
            return owner.unavailable()
        return f"Unknown tool: {name}"
