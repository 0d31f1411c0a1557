"""Security labs for lesson 02: each runs an attack against a deliberately vulnerable variant of the lesson's
server, where it succeeds, and against the lesson's real server, where it fails.

    python -m 02-basic-token-passthrough.labs.shared_state
    python -m 02-basic-token-passthrough.labs.token_exposure

docs/security.md explains each attack; docs/tests/test_labs.py runs every lab and checks what it prints.
"""
