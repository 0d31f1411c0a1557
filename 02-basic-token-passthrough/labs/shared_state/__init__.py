"""Persistent context misuse: `python -m 02-basic-token-passthrough.labs.shared_state`."""
