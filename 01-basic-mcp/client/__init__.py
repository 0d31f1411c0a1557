"""The lesson's MCP client: `python -m 01-basic-mcp.client --help`."""
