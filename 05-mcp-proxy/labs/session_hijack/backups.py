"""The team's backup server, for the session-hijacking lab: an honest MCP server whose tools talk to their
caller while they run. The lab serves `create_server()` from its own process (stage.py); over stdio:

    python -m 05-mcp-proxy.labs.session_hijack.backups

- `backup(owner)` asks its caller to confirm (an elicitation), then backs up the owner's files with a
  log line for each: messages a server sends during a call, meant for the one client whose call it is;
- `watch()` says how many backups are running (a progress notification), and answers once none is.
"""

import logging
import sys
import warnings

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import BaseModel

FILES = {"alice": ["salary-2026.xlsx", "passport.pdf"], "mallory": ["notes.txt"]}


class Confirmation(BaseModel):
    confirm: bool


def create_server() -> MCPServer:
    mcp = MCPServer("backups")
    running = 0

    @mcp.tool()
    async def backup(owner: str, ctx: Context) -> str:
        """Back up a user's files, once they confirm: a log line for each file."""
        nonlocal running
        running += 1
        try:
            files = FILES.get(owner, [])
            answer = await ctx.elicit(f"Back up {owner}'s {len(files)} files now?", Confirmation)
            if answer.action != "accept" or not answer.data.confirm:
                return "nothing backed up"
            for file in files:
                await ctx.info(f"backed up {owner}/{file}")
            return f"backed up {len(files)} files"
        finally:
            running -= 1

    @mcp.tool()
    async def watch(ctx: Context) -> str:
        """Report the backups running now, and answer once none is."""
        await ctx.report_progress(
            0, message=f"{running} backup running" if running == 1 else f"{running} backups running"
        )
        while running:
            await anyio.sleep(0.05)
        return "no backup running"

    return mcp


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)  # stdout is the protocol
    # Log lines to a client are deprecated in the 2026-07-28 era; the proxy speaks the handshake era to it.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    anyio.run(create_server().run_stdio_async)


if __name__ == "__main__":
    main()
