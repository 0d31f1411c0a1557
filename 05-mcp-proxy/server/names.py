"""Namespacing: one catalog built from many servers, with no name clashing.

Two backends may both have an `echo_message` tool. Behind one endpoint they
become `basic__echo_message` and `faulty__echo_message`: the backend's name,
a separator (configurable, `__` by default), the backend's own name for it.

Every exposed name matches `^[a-zA-Z0-9_-]{1,64}$`, the pattern LLM APIs accept
for function names (the MCP specification is looser: it allows `.` and up to 128
characters). A backend name that does not fit, or one longer than 64
characters together with its prefix, is shortened and given a hash suffix, so
two different names never collide. The proxy routes by its own table of
exposed names, never by parsing one, so a shortened name still calls the right
tool.

Resource URIs are prefixed too: `faulty+status://now`. `+` is legal in a URI
scheme, so the result is still a URI, and a template such as
`faulty+items://{id}` routes by the same prefix whatever `{id}` becomes.
"""

import hashlib
import re

# The proxy's note, in `_meta`, of where a tool lives (view.py) and where a tool's result came from (backends.py).
META_KEY = "mcp-workshop/proxy"
LLM_SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
UNSAFE_CHARACTER = re.compile(r"[^a-zA-Z0-9_-]")
MAX_NAME = 64
URI_SEPARATOR = "+"


def exposed_name(backend: str, name: str, separator: str) -> str:
    """`backend<separator>name`, made safe for LLM APIs if it is not already."""
    candidate = f"{backend}{separator}{name}"
    if LLM_SAFE.match(candidate):
        return candidate
    # Deterministic: the same upstream name always gets the same exposed name.
    suffix = hashlib.sha256(name.encode()).hexdigest()[:8]
    room = MAX_NAME - len(backend) - len(separator) - len(suffix) - 1
    return f"{backend}{separator}{UNSAFE_CHARACTER.sub('-', name)[:room]}-{suffix}"


def exposed_uri(backend: str, uri: str) -> str:
    return f"{backend}{URI_SEPARATOR}{uri}"


def split_uri(uri: str) -> tuple[str, str] | None:
    """(backend, the backend's own URI), or None if `uri` carries no backend prefix."""
    backend, separator, original = uri.partition(URI_SEPARATOR)
    return (backend, original) if separator and original else None
