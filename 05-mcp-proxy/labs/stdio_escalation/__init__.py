"""Privilege escalation through a proxy's stdio servers: python -m 05-mcp-proxy.labs.stdio_escalation"""
