"""Tool poisoning: `python -m 05-mcp-proxy.labs.tool_poisoning`."""
