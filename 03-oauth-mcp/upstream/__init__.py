"""The upstream API the lesson 03 MCP server calls for its users: `python -m 03-oauth-mcp.upstream --help`."""
