"""The config, resolved once into frozen settings: what each part of the proxy reads.

config.py checks the file as written. A server's `options` there replace the
proxy's for that server (TBXark's rule), so "this backend's timeout" or "this
backend's tokens" is a question with two places to look. It is answered here,
once per load, and nothing else reads the raw config: the backends read their
`BackendSettings`, the views and the gate read `ProxySettings`.

A SIGHUP reload builds new settings and compares them with the old: a backend
is restarted only if its `Connection` changed. Its tokens and tool filter only
change what callers see, so they take effect without reconnecting.
"""

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from .config import BackendConfig, Config, Reconnect, ServerOptions, ToolFilter


@dataclass(frozen=True)
class Connection:
    """What a backend's connection is made from: if any of it changes, the backend reconnects."""

    spec: BackendConfig  # its entry in `mcpServers`, less its `options` (resolved into BackendSettings)
    timeout: float  # seconds: connecting, each call, each ping
    log_calls: bool
    health_interval: float
    reconnect: Reconnect

    @property
    def transport(self) -> Literal["stdio", "streamable-http"]:
        return self.spec.transport


@dataclass(frozen=True)
class BackendSettings:
    name: str
    connection: Connection
    required: bool  # panicIfInvalid: the proxy refuses to start without it
    tokens: tuple[str, ...]  # the gate's tokens that admit a caller to it; none: open to anyone
    tool_filter: ToolFilter | None
    require_approval: tuple[str, ...]  # globs of its tools whose calls wait for the caller's user (approval.py)


@dataclass(frozen=True)
class ProxySettings:
    name: str
    version: str
    addr: str
    base_url: str | None
    proxy_tokens: tuple[str, ...]  # mcpProxy.options.authTokens: the default of each backend's `tokens`
    separator: str
    page_size: int | None
    pin_tools: bool
    approve_new_tools: bool  # a tool seen for the first time waits for an operator too (pinning.py)
    # One JSON body for every call, never a stream (answers.py streams only when needed): the SDK skips
    # setting a stream up, but nothing reaches the caller during the call (progress, log lines, a
    # backend's questions). Read at start: SIGHUP keeps it.
    json_response: bool
    backends: MappingProxyType[str, BackendSettings]

    @property
    def guarded(self) -> bool:
        """Whether any token is configured: then /mcp turns away a caller no backend admits."""
        return bool(self.proxy_tokens) or any(backend.tokens for backend in self.backends.values())

    @classmethod
    def from_config(cls, config: Config) -> "ProxySettings":
        proxy, options = config.mcp_proxy, config.mcp_proxy.options

        def resolve(name: str, spec: BackendConfig) -> BackendSettings:
            own = spec.options
            return BackendSettings(
                name=name,
                connection=Connection(
                    spec=spec.model_copy(update={"options": ServerOptions()}),
                    timeout=spec.timeout or options.timeout,
                    log_calls=options.log_enabled if own.log_enabled is None else own.log_enabled,
                    health_interval=options.health_interval,
                    reconnect=options.reconnect,
                ),
                required=options.panic_if_invalid if own.panic_if_invalid is None else own.panic_if_invalid,
                tokens=options.auth_tokens if own.auth_tokens is None else own.auth_tokens,
                tool_filter=own.tool_filter or options.tool_filter,
                require_approval=options.require_approval if own.require_approval is None else own.require_approval,
            )

        return cls(
            name=proxy.name,
            version=proxy.version,
            addr=proxy.addr,
            base_url=proxy.base_url,
            proxy_tokens=options.auth_tokens,
            separator=options.tool_name_separator,
            page_size=options.page_size,
            pin_tools=options.pin_tools,
            approve_new_tools=options.approve_new_tools,
            json_response=options.json_response,
            backends=MappingProxyType({name: resolve(name, spec) for name, spec in config.mcp_servers.items()}),
        )
