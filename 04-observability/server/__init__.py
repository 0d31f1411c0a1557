"""The lesson's MCP server: `python -m 04-observability.server --help`."""
