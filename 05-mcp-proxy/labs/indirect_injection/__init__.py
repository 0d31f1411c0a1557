"""Indirect prompt injection through tool results: python -m 05-mcp-proxy.labs.indirect_injection"""
