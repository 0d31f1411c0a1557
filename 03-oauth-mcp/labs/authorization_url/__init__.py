"""Authorization URL injection: `python -m 03-oauth-mcp.labs.authorization_url`."""
