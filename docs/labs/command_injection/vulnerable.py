"""DELIBERATELY VULNERABLE: a tool that builds a shell command from its argument.

    python -m docs.labs.command_injection.vulnerable --workspace DIR   (an MCP server over stdio)

`sort_lines(file)` runs `sort <file>` through a shell. The shell reads the whole string: a
`;` ends the command and starts the next, so `notes.txt; touch x` sorts the file and then runs
whatever the caller wrote, as the user the server runs as. And `sort` reads a word that starts
with `-` as an option: `-ofile` makes it write a file. The caller here is a model, and what the
model writes can come from anything it has read. Do not use this one for anything but this lab.
"""

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from .stage import serve

if TYPE_CHECKING:
    from mcp.server import MCPServer


def create_server(workspace: Path) -> "MCPServer":
    # Imported only now, once `serve` has checked the command line: run bare, the variant refuses at
    # once, not after a second of importing the SDK.
    from mcp.server import MCPServer
    from pydantic import Field

    mcp = MCPServer("sort-lines, through a shell")

    @mcp.tool()
    def sort_lines(file: Annotated[str, Field(description="The name of a file in the workspace.")]) -> str:
        """Return the lines of a file in the workspace, sorted."""
        # ruff flags this line (S602: shell=True). It is silenced here because it is what this lab shows.
        done = subprocess.run(  # noqa: S602
            f"sort {file}", shell=True, cwd=workspace, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        return done.stdout or done.stderr

    return mcp


if __name__ == "__main__":
    serve(create_server, flaw="sort_lines builds a shell command from its argument")
