"""OAuth 2.0 Token Exchange (RFC 8693): an MCP server trades its caller's token for one to call an upstream API.

Authlib 1.9 reserves a module for RFC 8693 but implements none of it: this grant is the part it
lacks. The MCP server (the *actor*, authenticated as the confidential client it already is)
posts to /token:

    grant_type=urn:ietf:params:oauth:grant-type:token-exchange
    subject_token=<its caller's access token>
    subject_token_type=urn:ietf:params:oauth:token-type:access_token
    resource=<the upstream API>

and receives a token for the same user (`sub`), for the upstream (`aud`), saying who acts for the
user (`act`, RFC 8693 §4.1). This server's policy, for each exchange:

- only a client allowed the grant may ask (the seeded `journal-mcp-server`, or one added for
  another resource with optional/add_resource_server.py);
- the subject token must be one this server issued, unexpired and unrevoked, and issued *to the
  resource the asking client is* (its resources are registered with it: seed.py for the first
  `--resource`, optional/add_resource_server.py for others): an MCP server exchanges its own
  tokens, not another resource's;
- the audience must be an upstream API this server knows (`--upstream`), never an MCP server:
  an exchanged token cannot be turned back into a token for the MCP servers;
- the scope can only stay or shrink, and the new token expires no later than the subject token.

The grant reads what it needs from its server (oauth.py `AuthorizationServer`): `settings`, `keys`,
`clients` and `revocations`.
"""

from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)

from .models import User
from .resources import InvalidTargetError, ResourceIndicators
from .tokens import token_actor, token_lifetime_cap

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 -- a token type name


class TokenExchangeGrant(ResourceIndicators, grants.BaseGrant, grants.TokenEndpointMixin):
    GRANT_TYPE = TOKEN_EXCHANGE
    # The actor proves who it is: confidential clients only.
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This client may not exchange tokens")
        data, settings = self.request.payload.data, self.server.settings
        if data.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            raise InvalidRequestError(f"subject_token_type must be {ACCESS_TOKEN_TYPE}")
        if "actor_token" in data:
            raise InvalidRequestError("actor_token is not supported: the authenticated client is the actor")
        subject = self.server.keys.verify(data.get("subject_token", ""), settings.issuer)
        if subject is None or self.server.revocations.access_token_revoked(subject["jti"]):
            raise InvalidGrantError("The subject token is invalid, expired or revoked")
        # The token must be for the resource this client *is*: with `--resource A --resource B`, A's
        # server holding a user's token for B (sent to it by mistake, or taken from B) must not
        # turn it into B's user's access to the upstream. Each resource has its own client (seed.py,
        # optional/add_resource_server.py); a resource this server no longer serves counts for no one.
        if subject["aud"] not in self.server.clients.resources_of(client.client_id) & set(settings.resources):
            raise InvalidGrantError("The subject token was not issued to this client's own resource")

        values = self.request.payload.datalist.get("resource", [])
        if len(values) != 1 or values[0] not in settings.upstreams:
            raise InvalidTargetError("Exchange for exactly one known upstream API")
        granted = set(subject["scope"].split())
        asked = set((data.get("scope") or subject["scope"]).split())
        if not asked <= granted:
            raise InvalidScopeError("An exchanged token cannot have more scope than the token it replaces")

        self.request.client = client
        self.request.user = User(subject["sub"])
        self.request.resource = values[0]
        self.request.scope = " ".join(sorted(asked))
        self.subject = subject

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # `act`: this client acts for the subject, and for whoever the subject token says acted before.
        actor = {"sub": self.request.client.client_id}
        if "act" in self.subject:
            actor["act"] = self.subject["act"]
        # Never outlive the token it replaces, whatever the configured lifetime.
        resets = token_actor.set(actor), token_lifetime_cap.set(self.subject["exp"])
        try:
            token = self.generate_token(user=self.request.user, scope=self.request.scope, include_refresh_token=False)
        finally:
            token_actor.reset(resets[0])
            token_lifetime_cap.reset(resets[1])
        token["issued_token_type"] = ACCESS_TOKEN_TYPE  # RFC 8693 §2.2.1
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
