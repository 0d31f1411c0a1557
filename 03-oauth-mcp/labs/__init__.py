"""Security labs for lesson 03: each runs an attack against a deliberately vulnerable variant of the
lesson's code, where it succeeds, and against the lesson's real code, where it fails.

    python -m 03-oauth-mcp.labs.privilege_escalation
    python -m 03-oauth-mcp.labs.spoofed_resource
    python -m 03-oauth-mcp.labs.token_passthrough
    python -m 03-oauth-mcp.labs.mix_up
    python -m 03-oauth-mcp.labs.metadata_ssrf
    python -m 03-oauth-mcp.labs.state_handles
    python -m 03-oauth-mcp.labs.authorization_url
    python -m 03-oauth-mcp.labs.localhost_redirect

docs/security.md explains each attack; docs/tests/test_labs.py runs every lab and checks what it prints.
"""
