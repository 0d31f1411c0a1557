"""The lesson's MCP server: `python -m 01-basic-mcp.server --help`."""
