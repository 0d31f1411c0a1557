"""The lesson's MCP client: `python -m 02-basic-token-passthrough.client --help`."""
