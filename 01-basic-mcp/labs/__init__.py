"""Security labs for lesson 01: each runs an attack against a deliberately vulnerable variant of the
lesson's server, where it succeeds, and against the lesson's real server, where it fails.

    python -m 01-basic-mcp.labs.open_streams
    python -m 01-basic-mcp.labs.dns_rebinding

docs/security.md explains each attack; docs/tests/test_labs.py runs every lab and checks what it prints.
"""
