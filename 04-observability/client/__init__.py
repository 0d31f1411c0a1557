"""The lesson's MCP client: `python -m 04-observability.client --help`."""
