"""The lesson's MCP server: `python -m 02-basic-token-passthrough.server --help`."""
