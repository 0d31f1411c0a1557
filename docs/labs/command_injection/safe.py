"""A tool that passes an argument vector, and checks its argument first.

    python -m docs.labs.command_injection.safe --workspace DIR   (an MCP server over stdio)

`sort_lines(file)` runs `sort` with a list of arguments, so no shell ever reads `file`:
whatever characters it holds, it stays one argument. `--` before it tells `sort` that no
option follows, so a name that starts with `-` is still a name. And before any of that, `file`
must be the name of a file in the workspace: the schema's pattern refuses anything else (a
path, an option, a `;`) before the tool runs, with an error the caller can read.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from .stage import serve

FILE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"  # a name: no '/', and not an option (no leading '-')


def create_server(workspace: Path) -> MCPServer:
    mcp = MCPServer("sort-lines, with an argument vector")
    sort = shutil.which("sort")  # the program by its full path, found once, not looked up by a shell
    if sort is None:
        raise RuntimeError("this server needs `sort` on the PATH")

    @mcp.tool()
    def sort_lines(
        file: Annotated[str, Field(pattern=FILE_NAME, description="The name of a file in the workspace.")],
    ) -> str:
        """Return the lines of a file in the workspace, sorted."""
        if not (workspace / file).is_file():
            raise ToolError(f"{file!r} is not a file in the workspace")
        done = subprocess.run(
            [sort, "--", file], cwd=workspace, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        if done.returncode != 0:
            raise ToolError(done.stderr.strip())
        return done.stdout

    return mcp


if __name__ == "__main__":
    serve(create_server)
