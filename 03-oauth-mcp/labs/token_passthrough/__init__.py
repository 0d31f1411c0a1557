"""Token passthrough, and token exchange instead: `python -m 03-oauth-mcp.labs.token_passthrough`."""
