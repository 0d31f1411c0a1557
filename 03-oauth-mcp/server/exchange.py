"""OAuth 2.0 Token Exchange (RFC 8693): the MCP server trades its caller's token for one issued to the upstream.

Forwarding the caller's token (lesson 02) would hand the upstream a token it could replay here, the
confused deputy the MCP spec forbids; the new token is worth nothing anywhere but at the upstream.
"""

import httpx2

from ..server_extras.client_auth import basic_credentials
from ..server_extras.json_answers import TokenAnswer, UnreadableAnswer, read_answer
from .issuer import Issuer, IssuerUnavailable

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 -- a token type name


class ExchangeRefused(Exception):
    """The authorization server would not exchange the token: the caller sees why, in a few words."""


class TokenExchanger:
    """Asks the issuer's token endpoint as a client of its own: this server's `--client-id` and `--client-secret`."""

    def __init__(self, issuer: Issuer, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self._authorization = basic_credentials(client_id, client_secret)

    async def token_for(self, audience: str, subject_token: str) -> str:
        """An access token for `audience`, acting for whoever `subject_token` was issued to."""
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "resource": audience,  # RFC 8707, which RFC 8693 §2.1 adopts
        }
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        try:
            endpoint = await self.issuer.endpoint("token_endpoint")
            async with self.issuer.http.stream("POST", endpoint, data=form, headers=headers) as response:
                answer = await read_answer(response, TokenAnswer)
        except (httpx2.HTTPError, IssuerUnavailable) as error:
            raise ExchangeRefused(f"the authorization server did not answer: {type(error).__name__}") from None
        except UnreadableAnswer as problem:
            raise ExchangeRefused(f"the authorization server's answer is no token response: {problem}") from None
        if response.status_code != 200 or answer.access_token is None:
            raise ExchangeRefused(f"the authorization server refused: {answer.error or response.status_code}")
        return answer.access_token
