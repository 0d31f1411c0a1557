"""What both of the lab's servers share: a workspace folder from the command line, and stdio to serve on."""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
from mcp.server import MCPServer


def serve(create_server: Callable[[Path], MCPServer]) -> None:
    """Serve `create_server(workspace)` over stdio, `workspace` the `--workspace DIR` of the command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, required=True)
    # stdout is the protocol: logs go to stderr, and only what is worth a warning.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    anyio.run(create_server(parser.parse_args().workspace.resolve()).run_stdio_async)
