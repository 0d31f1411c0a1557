"""Security labs for lesson 03: each runs an attack against a deliberately vulnerable variant of the
lesson's code, where it succeeds, and against the lesson's real code, where it fails.

    python -m 03-oauth-mcp.labs.mix_up

docs/security.md explains each attack; tests/test_labs.py runs every lab and checks what it prints.
"""
