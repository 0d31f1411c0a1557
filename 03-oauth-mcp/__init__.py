"""Lesson 03: an OAuth 2.1 protected MCP server, a local authorization server and a PKCE client."""
