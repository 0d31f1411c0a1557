"""State handle hijacking: `python -m 03-oauth-mcp.labs.state_handles`."""
