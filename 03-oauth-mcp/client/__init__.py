"""The lesson's MCP client: `python -m 03-oauth-mcp.client --help`."""
