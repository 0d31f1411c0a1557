"""Security labs for lesson 05: each runs an attack against a deliberately vulnerable variant of the
lesson's proxy, where it succeeds, and against the lesson's real proxy, where it fails.

    python -m 05-mcp-proxy.labs.tool_poisoning
    python -m 05-mcp-proxy.labs.rug_pull
    python -m 05-mcp-proxy.labs.session_hijack
    python -m 05-mcp-proxy.labs.stdio_escalation
    python -m 05-mcp-proxy.labs.tool_shadowing
    python -m 05-mcp-proxy.labs.indirect_injection

docs/security.md explains each attack; docs/tests/test_labs.py runs every lab and checks what it prints.
"""
