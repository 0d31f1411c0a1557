"""What both of the lab's servers share: a workspace folder from the command line, and stdio to serve on.

The vulnerable one runs only as its lab starts it, with `--workspace` (the lab's temporary folder,
never a default), and says what it is on stderr.
"""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import anyio

if TYPE_CHECKING:  # the servers import the SDK once their command line is checked (vulnerable.py)
    from mcp.server import MCPServer

LAB = "docs.labs.command_injection"


class LabCommandLine(argparse.ArgumentParser):
    """argparse, whose usage errors also say what the program is and who runs it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.description}\n{self.epilog}\n{self.prog}: error: {message}\n")


def serve(create_server: Callable[[Path], "MCPServer"], flaw: str | None = None) -> None:
    """Serve `create_server(workspace)` over stdio, `workspace` the `--workspace DIR` of the command line.

    `flaw`: the server is the lab's deliberately vulnerable one, with this flaw.
    """
    banner = f"DELIBERATELY VULNERABLE (lab: command_injection): {flaw}" if flaw else None
    parser = LabCommandLine(
        prog=f"python -m {LAB}.{'vulnerable' if flaw else 'safe'}",
        description=banner or "The lab's server that resists: an argument vector, its argument checked first.",
        epilog=f"Its lab starts it, with a workspace of its own: python -m {LAB}",
    )
    parser.add_argument("--workspace", type=Path, required=True)
    workspace = parser.parse_args().workspace.resolve()
    if banner:
        print(banner, file=sys.stderr, flush=True)
    # stdout is the protocol: logs go to stderr, and only what is worth a warning.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    anyio.run(create_server(workspace).run_stdio_async)
