"""The enterprise flow's client: `python -m 03-oauth-mcp.enterprise.client --help`.

A user of the company signs in once, at the company's identity provider, and then uses the MCP
server with no consent page: the IdP's administrator has decided already. `identity_provider.py` is
the part the SDK leaves to the application (signing in, and the RFC 8693 exchange for an ID-JAG);
the SDK's `IdentityAssertionOAuthProvider` redeems the ID-JAG at the MCP authorization server, sends
the access token to the MCP server, and asks for a fresh ID-JAG whenever it needs a new token.
The MCP part (`tools`, `call`, one-line errors, `--verbose`) is the lesson's client's (`client/`).
"""
