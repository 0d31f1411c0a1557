"""Rug pulls: `python -m 05-mcp-proxy.labs.rug_pull`."""
