"""The bundled enterprise identity provider: `python -m 03-oauth-mcp.enterprise.idp`. DEVELOPMENT ONLY.

It stands in for the company's IdP (Okta, Entra ID, ...), so the enterprise flow runs offline, and
it is built like one, on Authlib:

- `directory.py`: who is in the company (alice and bob, the lesson's users), the applications
  registered here, and the administrator's policy: which application may reach which MCP server,
  as which client there, with which scopes for whom (Okta calls it a managed connection);
- `oauth.py`: OpenID Connect sign-in (authorization code with PKCE, an ID token), and the RFC 8693
  exchange of an ID token for an ID-JAG, which requires the application to authenticate;
- `app.py`: the routes, and the sign-in page;
- `__main__.py`: the command line. It listens on loopback only, keeps everything in memory, and
  makes a new signing key at every start.
"""
