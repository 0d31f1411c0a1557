"""The MCP proxy: `python -m 05-mcp-proxy.server --help`."""
