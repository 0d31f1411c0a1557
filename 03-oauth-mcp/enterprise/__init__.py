"""Enterprise-Managed Authorization, offline: the company's identity provider, and a client that goes through it.

Skip on a first read. In a company, users sign in once, at the company's identity provider (IdP:
Okta, say), and the IdP's administrator decides which applications may reach which MCP servers for
whom. The MCP extension for it (io.modelcontextprotocol/enterprise-managed-authorization) puts the
IdP in front of the MCP server's own authorization server:

1. the user signs in at the IdP (OpenID Connect): the client gets an ID token;
2. the client exchanges the ID token at the IdP for an ID-JAG (RFC 8693 token exchange): a short-lived
   grant, signed by the IdP, naming the user, the MCP server's authorization server (`aud`), the MCP
   server (`resource`) and the client there (`client_id`);
3. the client redeems the ID-JAG at the MCP server's authorization server with the JWT bearer grant
   (RFC 7523): an access token for the MCP server, for that user, with no consent page;
4. the client calls the MCP server with that token, as any client does.

- `idp/`: `python -m 03-oauth-mcp.enterprise.idp`, the company's IdP, bundled so the lesson runs
  offline: it signs alice and bob in, issues ID tokens, and answers the exchange by its policy.
- `client/`: `python -m 03-oauth-mcp.enterprise.client`, the client side: legs 1 and 2 written here
  (the SDK leaves them to the application), legs 3 and 4 the SDK's `IdentityAssertionOAuthProvider`.

The lesson's authorization server redeems ID-JAGs from the IdPs its operator names, `--trusted-idp`
(auth_server/optional/enterprise.py).
"""
