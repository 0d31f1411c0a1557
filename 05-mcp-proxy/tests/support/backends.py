"""The servers lesson 05's proxy sits in front of, as entries of its config's `mcpServers`.

Real ones: lesson 01's server over stdio, lesson 02's over Streamable HTTP (with its echo
upstream). Difficult ones: `faulty_backend.py`, a low-level server built to misbehave, two
commands that are not MCP servers at all (one exits at once, one never answers), and one that
cannot even be started.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import processes

FAULTY = Path(__file__).with_name("faulty_backend.py")


def lesson_01(**extra: Any) -> dict[str, Any]:
    """Lesson 01's server over stdio."""
    args = ["-m", "01-basic-mcp.server", "--transport", "stdio", "--log-level", "error"]
    return {"command": "python", "args": args, **extra}


def faulty(*flags: str, **extra: Any) -> dict[str, Any]:
    """faulty_backend.py over stdio: `faulty("--page-size", "2", timeout=3)`."""
    return {"command": "python", "args": [str(FAULTY), *flags], **extra}


def broken(**extra: Any) -> dict[str, Any]:
    """A command that exits at once, as a broken install would."""
    return {"command": "python", "args": ["-c", "import sys; sys.exit('broken: refusing to start')"], **extra}


def unconfigured(variable: str, **extra: Any) -> dict[str, Any]:
    """A backend whose command line needs an environment variable nobody set: it fails before any process starts."""
    return {"command": "python", "args": [f"${{{variable}}}"], **extra}


def stuck(**extra: Any) -> dict[str, Any]:
    """A process that reads every request and answers none, until the proxy hangs up."""
    return {"command": "python", "args": ["-c", "import sys; sys.stdin.read()"], **extra}


def over_http(url: str, token_variable: str) -> dict[str, Any]:
    """A Streamable HTTP backend whose bearer token the proxy reads from its own environment."""
    return {"type": "streamable-http", "url": url, "headers": {"Authorization": f"Bearer ${{{token_variable}}}"}}


@contextmanager
def lesson_02(port: int) -> Iterator["processes.RunningServer"]:
    """Lesson 02's MCP server over Streamable HTTP on `port`, and the echo upstream it calls.

    Started, not waited for: a test starts the proxy meanwhile, and waits for both.
    """
    upstream_port = processes.free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}/anything"
    with (
        processes.launched("02-basic-token-passthrough.upstream", port=upstream_port),
        processes.launched(
            "02-basic-token-passthrough.server", "--transport", "http", "--upstream-url", upstream_url, port=port
        ) as server,
    ):
        yield server
