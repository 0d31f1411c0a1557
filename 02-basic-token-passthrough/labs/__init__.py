"""Security labs for lesson 02: an attack run against a deliberately vulnerable variant of the lesson's
server, where it succeeds, and against the lesson's real server, where it fails.

    python -m 02-basic-token-passthrough.labs.shared_state

docs/security.md explains the attack; docs/tests/test_labs.py runs the lab and checks what it prints.
"""
