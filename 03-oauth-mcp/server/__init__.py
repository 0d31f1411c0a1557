"""The lesson's MCP server: `python -m 03-oauth-mcp.server --help`."""
