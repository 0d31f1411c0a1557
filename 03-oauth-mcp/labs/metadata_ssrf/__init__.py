"""Server-side request forgery through a client ID metadata document: `python -m 03-oauth-mcp.labs.metadata_ssrf`."""
