"""Lesson 01: a basic MCP server over stdio and Streamable HTTP, and a client for it."""
