"""The lesson's client for the proxy: `python -m 05-mcp-proxy.client --help`."""
