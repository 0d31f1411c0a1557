"""Where the client finds its server: a subprocess over stdio, or a URL over Streamable HTTP.

`mcp.Client` picks the transport from what it is given: `StdioServerParameters`
spawns a process and speaks JSON-RPC over its stdin/stdout; a URL string speaks
Streamable HTTP. Everything after `async with Client(...)` is the same for both.
"""

import sys
from pathlib import Path

from mcp import Client, StdioServerParameters

# This package's parent, the lesson's folder: the client always spawns its own lesson's server.
LESSON = __package__.rpartition(".")[0]
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def stdio_server(log_level: str) -> StdioServerParameters:
    # The same interpreter and `python -m` an attendee would type, run from the
    # repository root so the lesson package is importable.
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", f"{LESSON}.server", "--transport", "stdio", "--log-level", log_level],
        cwd=REPOSITORY_ROOT,
    )


def connect(url: str | None, log_level: str) -> Client:
    """A `Client` for the server at `url`, or for a freshly spawned stdio server."""
    return Client(url if url else stdio_server(log_level))
