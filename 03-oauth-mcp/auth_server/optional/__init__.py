"""The authorization server's optional parts, and the one place they are plugged in (wiring.py).

Skip this package on a first reading: the core, one level up, is a whole authorization server
without it. Each module says in its first line what it is for; when each matters:

- `wiring.py`: `create_app`, the core's `AuthorizationService` with every part below plugged in.
- `command_line.py`: `python -m 03-oauth-mcp.auth_server`, its flags and uvicorn; it runs `create_app`.
- `throttle.py`: failed passwords and client secrets, and registrations, slow down (the core's `Guard`):
  once anyone can reach the server.
- `pending_limits.py`, `body_limit.py`: what a pending authorization keeps and how many one client or
  address has, and a 64 KiB ceiling on bodies: GET /authorize and /register are anonymous.
- `registration.py`: RFC 7591 /register, and the redirect-URI policy every client meets: clients
  that register (the SDK's fallback when a client has no metadata document).
- `cimd.py`: Client ID Metadata Documents, fetched behind an SSRF fence, cached within bounds: MCP's
  preferred way for a client to introduce itself.
- `machine_clients.py`: client credentials, the seeded `journal-bot`: services acting for themselves.
- `private_key_jwt.py`, `client_keys.py`, `used_assertions.py`: clients that sign an assertion with their
  own key instead of sending a secret (RFC 7523 §2.2), their public keys, and each assertion used once.
- `enterprise.py`: `--trusted-idp`, ID-JAGs from a company's identity provider redeemed with the JWT
  bearer grant (MCP's Enterprise-Managed Authorization).
- `introspection.py`, `recently_verified.py`: /introspect (RFC 7662), and right client secrets
  checked by HMAC for a while: resource servers that ask instead of verifying (production/).
- `github.py`: "Approve with GitHub" on the consent page: `--github-client-id`.
- `logs.py`: no credential from a URL's query in the log (GitHub's code comes back in one).
- `rotate_key.py`, `add_resource_server.py`, `add_client.py`: commands,
  `python -m 03-oauth-mcp.auth_server.optional.<name>`: publish the next signing key and sign with it
  later; a client for the MCP server of another `--resource`; a client that authenticates with its key.

Each plugs in through something the core offers: a stronger part handed to `AuthorizationService`
(the client store, the pending authorizations, the guard), Authlib's own registration of grants and
endpoints, a sign-in offered on the consent page, a route or a middleware. Ways for a client to
authenticate and grants plug in the same way: `service.server.register_client_auth_method(...)`
(`private_key_jwt`), `service.server.register_grant(...)` (client credentials, the JWT bearer grant).
"""
