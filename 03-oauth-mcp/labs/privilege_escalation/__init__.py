"""Privilege escalation through scopes: `python -m 03-oauth-mcp.labs.privilege_escalation`."""
