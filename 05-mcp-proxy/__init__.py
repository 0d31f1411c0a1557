"""Lesson 05: an aggregating MCP proxy, many servers behind one Streamable HTTP endpoint, and a client for it."""
