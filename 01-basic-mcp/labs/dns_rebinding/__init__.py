"""DNS rebinding: `python -m 01-basic-mcp.labs.dns_rebinding`."""
