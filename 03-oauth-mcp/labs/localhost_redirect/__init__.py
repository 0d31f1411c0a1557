"""Localhost redirect URI impersonation: `python -m 03-oauth-mcp.labs.localhost_redirect`."""
