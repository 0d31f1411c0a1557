"""The proxy's configuration file, validated with pydantic.

Two shapes load:

- TBXark/mcp-proxy's: `mcpProxy` (address, name, `options`) plus `mcpServers`,
  each with per-server `options` (`authTokens`, `toolFilter`, `panicIfInvalid`).
  The Go workshop's `05-mcp-proxy/config.json` is one.
- the common Claude-style file, `mcpServers` alone.

Every key means something: an unknown key is an error naming where it is, never
silently ignored. `${VAR}` (or `${VAR:-default}`) in headers, env, args, url and
auth tokens is replaced from the environment, so secrets stay out of the file.
Backends' values are expanded when the backend connects, so one missing variable
fails that backend only; the gate's tokens are expanded at load time, because a
proxy that cannot read its tokens must not start open.

Where a server's own option and the proxy's meet, settings.py resolves them,
once, into the frozen settings the rest of the proxy reads. A config names the
commands the proxy runs: it is read only if no one but the proxy's user can
change it (permissions.py).
"""

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..addresses import SERVER_ADDR
from .permissions import writable_by_others

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
BACKEND_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
SEPARATOR = re.compile(r"^[A-Za-z0-9_-]{1,3}$")
# What a client can send as `Authorization: Bearer <token>` (RFC 6750 §2.1), and so all the gate reads.
TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# TBXark reads `timeout` as a Go time.Duration: a bare number there is nanoseconds.
LONGEST_TIMEOUT_SECONDS = 24 * 3600


class ConfigError(ValueError):
    """A configuration problem, phrased for whoever edits the file."""


def expand(value: str, where: str | None = None) -> str:
    """Replace each ${VAR} or ${VAR:-default} in `value` from the environment."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        problem = f"environment variable {name} is not set (write ${{{name}:-default}} for a default)"
        raise ConfigError(f"{where}: {problem}" if where else problem)

    return ENV_REFERENCE.sub(replace, value)


class Model(BaseModel):
    # camelCase in the file, snake_case in Python; unknown keys are errors.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class ToolFilter(Model):
    """Which of a backend's tools are exposed: shell-style globs, `*` and `?`."""

    mode: Literal["allow", "block"]
    list: tuple[str, ...] = ()


def expand_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    expanded = tuple(expand(token) for token in tokens)
    if any(not token for token in expanded):
        raise ValueError("an empty token would let anyone in")
    if any(not TOKEN68.fullmatch(token) for token in expanded):
        raise ValueError(
            "a token must be one a client can send as 'Bearer <token>': A-Z a-z 0-9 - . _ ~ + / then any ="
        )
    return expanded


class ServerOptions(Model):
    """TBXark's per-server `options`; each one defaults to the proxy's."""

    panic_if_invalid: bool | None = None
    log_enabled: bool | None = None
    auth_tokens: tuple[str, ...] | None = None
    tool_filter: ToolFilter | None = None
    require_approval: tuple[str, ...] | None = None  # globs of the backend's own tool names (approval.py)

    _tokens = field_validator("auth_tokens")(lambda tokens: None if tokens is None else expand_tokens(tokens))


class BackendConfig(Model):
    """One backend: a command to spawn over stdio, or a Streamable HTTP URL."""

    # TBXark says `transportType`, Claude Code and VS Code say `type`.
    transport_type: Annotated[
        Literal["stdio", "streamable-http", "http", "sse"] | None, Field(validation_alias="type")
    ] = None
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, description="seconds")
    options: ServerOptions = ServerOptions()

    @model_validator(mode="before")
    @classmethod
    def accept_both_spellings(cls, data: Any) -> Any:
        if isinstance(data, dict) and "transportType" in data:
            if "type" in data:
                raise ValueError("give either 'type' or 'transportType', not both")
            data = {**data, "type": data["transportType"]}
            del data["transportType"]
        return data

    @field_validator("timeout")
    @classmethod
    def timeout_in_seconds(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= LONGEST_TIMEOUT_SECONDS:
            hint = " (it looks like Go nanoseconds: write seconds)" if value > LONGEST_TIMEOUT_SECONDS else ""
            raise ValueError(f"must be between 0 and {LONGEST_TIMEOUT_SECONDS} seconds, got {value:g}{hint}")
        return value

    @model_validator(mode="after")
    def one_transport(self) -> "BackendConfig":
        if self.transport_type == "sse":
            raise ValueError("the SSE transport is not supported (deprecated since 2025-03-26): use streamable-http")
        if self.command and self.url:
            raise ValueError("give either 'command' (stdio) or 'url' (Streamable HTTP), not both")
        if not self.command and not self.url:
            raise ValueError("needs 'command' (stdio) or 'url' (Streamable HTTP)")
        if self.transport_type == "stdio" and not self.command:
            raise ValueError("type stdio needs 'command'")
        if self.transport_type in ("streamable-http", "http") and not self.url:
            raise ValueError(f"type {self.transport_type} needs 'url'")
        return self

    @property
    def transport(self) -> Literal["stdio", "streamable-http"]:
        return "stdio" if self.command else "streamable-http"


class Reconnect(Model):
    """Backoff between attempts to bring a failed backend back: doubling, capped."""

    initial_delay: float = Field(default=0.5, gt=0)
    max_delay: float = Field(default=30.0, gt=0)


class ProxyOptions(Model):
    """`mcpProxy.options`: TBXark's keys first, then this proxy's own."""

    panic_if_invalid: bool = False
    log_enabled: bool = True
    auth_tokens: tuple[str, ...] = ()
    tool_filter: ToolFilter | None = None
    require_approval: tuple[str, ...] = ()  # tools whose every call waits for the caller's user (approval.py)
    tool_name_separator: str = "__"
    page_size: int | None = Field(default=None, ge=1)
    pin_tools: bool = True
    approve_new_tools: bool = False  # pinTools trusts a tool on first use; this holds it until approved
    json_response: bool = False  # one JSON body for every call, never a stream: see settings.py
    timeout: float = Field(default=60.0, gt=0, le=LONGEST_TIMEOUT_SECONDS)
    health_interval: float = Field(default=10.0, gt=0)
    reconnect: Reconnect = Reconnect()

    @field_validator("tool_name_separator")
    @classmethod
    def separator_llm_apis_accept(cls, value: str) -> str:
        if not SEPARATOR.match(value):
            raise ValueError(f"{value!r} must be 1-3 of A-Z a-z 0-9 _ - (what LLM APIs accept in tool names)")
        return value

    @model_validator(mode="after")
    def approval_needs_pins(self) -> "ProxyOptions":
        if self.approve_new_tools and not self.pin_tools:
            raise ValueError("approveNewTools needs pinTools: approvals are kept in the pins file")
        return self

    _tokens = field_validator("auth_tokens")(expand_tokens)


class ProxyConfig(Model):
    """`mcpProxy`: the proxy itself."""

    # The address clients reach the proxy at, when that is not the one it binds
    # (a name, a reverse proxy): the endpoint it announces, and a Host and an
    # Origin its DNS-rebinding protection accepts besides the loopback ones.
    base_url: Annotated[str | None, Field(alias="baseURL")] = None
    addr: str = SERVER_ADDR
    name: str = "mcp-proxy"
    version: str = "0.1.0"
    type: Literal["streamable-http"] = "streamable-http"
    options: ProxyOptions = ProxyOptions()

    @field_validator("base_url")
    @classmethod
    def an_http_origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
        if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
            raise ValueError(f"must be an http(s) URL such as http://localhost:9090, got {value!r}")
        if parts.username or parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError(f"must be the proxy's origin alone, scheme://host[:port] (it serves /mcp), got {value!r}")
        return value.rstrip("/")


class Config(Model):
    mcp_proxy: ProxyConfig = ProxyConfig()
    mcp_servers: dict[str, BackendConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def names_split_back(self) -> "Config":
        separator = self.mcp_proxy.options.tool_name_separator
        for name in self.mcp_servers:
            if not BACKEND_NAME.match(name):
                raise ValueError(f"mcpServers.{name}: a server name must be 1-32 of A-Z a-z 0-9 _ -")
            # `name + separator + tool` must split at the separator we put there.
            if (name + separator).find(separator) != len(name):
                raise ValueError(f"mcpServers.{name}: the name clashes with the tool name separator {separator!r}")
        return self


def describe(error: ValidationError) -> str:
    """One line per problem, each starting with the path of the bad field."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "\n".join(lines)


def parse_config(data: Any) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


def load_config(path: Path) -> Config:
    """The config at `path`, if no one but the proxy's user can change it (permissions.py): at start and reload."""
    try:
        with path.open(encoding="utf-8") as file:
            # The open file's status: the file checked is the file read.
            if problem := writable_by_others(path, os.fstat(file.fileno())):
                raise ConfigError(
                    f"{problem}: a config names the commands this proxy runs, so only the user it runs as "
                    "(or root) may be able to change it, as ssh requires of ~/.ssh/config"
                )
            text = file.read()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not JSON: {error}") from None
    return parse_config(data)
