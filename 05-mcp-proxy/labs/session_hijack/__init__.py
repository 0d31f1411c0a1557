"""Session hijacking: `python -m 05-mcp-proxy.labs.session_hijack`."""
