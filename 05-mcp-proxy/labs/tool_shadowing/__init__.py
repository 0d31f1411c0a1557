"""Tool shadowing across backends: python -m 05-mcp-proxy.labs.tool_shadowing"""
