"""Open connections via SSE: `python -m 01-basic-mcp.labs.open_streams`."""
