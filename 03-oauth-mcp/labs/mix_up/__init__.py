"""The mix-up attack (RFC 9207): `python -m 03-oauth-mcp.labs.mix_up`."""
