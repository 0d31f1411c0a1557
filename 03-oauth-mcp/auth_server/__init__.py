"""The lesson's OAuth 2.1 authorization server: `python -m 03-oauth-mcp.auth_server --help`."""
