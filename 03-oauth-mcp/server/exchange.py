"""OAuth 2.0 Token Exchange (RFC 8693), the client side: the MCP server trades its caller's token for one
issued to the upstream API it calls for them.

Forwarding the caller's token (lesson 02) would hand the upstream a token issued for *this* server,
one it could replay here as the user, and would teach the upstream to accept tokens meant for
others: the confused deputy the MCP specification forbids. Exchanging it instead yields a token
with the same user (`sub`), this server as the actor (`act`), and the upstream as the audience
(`aud`), which is worth nothing anywhere else. The server authenticates as the client it already
is at the authorization server (the one it introspects with).
"""

import httpx2

from .discovery import IssuerMetadata, MetadataUnavailable
from .verifier import basic_credentials

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 -- a token type name


class ExchangeRefused(Exception):
    """The authorization server would not exchange the token: the caller sees why, in a few words."""


class TokenExchanger:
    def __init__(self, metadata: IssuerMetadata, client_id: str, client_secret: str) -> None:
        self.metadata = metadata
        self._authorization = basic_credentials(client_id, client_secret)

    async def token_for(self, audience: str, subject_token: str) -> str:
        """An access token for `audience`, acting for whoever `subject_token` was issued to; asked over
        the one client this server talks to the authorization server with (discovery.py)."""
        try:
            endpoint = await self.metadata.endpoint("token_endpoint")
            response = await self.metadata.http.post(
                endpoint,
                data={
                    "grant_type": TOKEN_EXCHANGE,
                    "subject_token": subject_token,
                    "subject_token_type": ACCESS_TOKEN_TYPE,
                    "resource": audience,  # RFC 8707, which RFC 8693 §2.1 adopts
                },
                headers={"Authorization": self._authorization, "Accept": "application/json"},
            )
            answer = response.json()
        except (httpx2.HTTPError, ValueError, MetadataUnavailable) as error:
            raise ExchangeRefused(f"the authorization server did not answer: {type(error).__name__}") from None
        if response.status_code != 200 or not isinstance(answer.get("access_token"), str):
            raise ExchangeRefused(f"the authorization server refused: {answer.get('error', response.status_code)}")
        return answer["access_token"]
