"""A server that claims to be another: `python -m 03-oauth-mcp.labs.spoofed_resource`."""
