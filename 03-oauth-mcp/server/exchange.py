"""OAuth 2.0 Token Exchange (RFC 8693), the client side: the MCP server trades its caller's token for one
issued to the upstream API it calls for them.

Forwarding the caller's token (lesson 02) would hand the upstream a token issued for *this* server,
one it could replay here as the user, and would teach the upstream to accept tokens meant for
others: the confused deputy the MCP specification forbids. Exchanging it instead yields a token
with the same user (`sub`), this server as the actor (`act`), and the upstream as the audience
(`aud`), which is worth nothing anywhere else. The server authenticates as the client it already
is at the authorization server (the one it introspects with). The answer is read within bounds and
in its shape (answers.py): a broken or hostile answer is refused like an error, and the tool says so.
"""

import logging

import httpx2
from pydantic import BaseModel, ConfigDict, Field

from .answers import UnreadableAnswer, read_answer
from .discovery import IssuerMetadata, MetadataUnavailable
from .verifier import basic_credentials

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 -- a grant type, not a secret
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 -- a token type name

logger = logging.getLogger(__name__)


class TokenAnswer(BaseModel):
    """A token response (RFC 8693 §2.2.1) or an error response (RFC 6749 §5.2): the members read here.
    The error code is quoted in the tool's error, so it must be what §5.2 allows: a short printable code."""

    model_config = ConfigDict(strict=True)
    access_token: str | None = None
    error: str | None = Field(default=None, pattern=r"^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$")


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
            async with self.metadata.http.stream(
                "POST",
                endpoint,
                data={
                    "grant_type": TOKEN_EXCHANGE,
                    "subject_token": subject_token,
                    "subject_token_type": ACCESS_TOKEN_TYPE,
                    "resource": audience,  # RFC 8707, which RFC 8693 §2.1 adopts
                },
                headers={"Authorization": self._authorization, "Accept": "application/json"},
            ) as response:
                answer = await read_answer(response, TokenAnswer)
        except (httpx2.HTTPError, MetadataUnavailable) as error:
            raise ExchangeRefused(f"the authorization server did not answer: {type(error).__name__}") from None
        except UnreadableAnswer as problem:
            logger.warning("the token exchange answer (HTTP %d) is %s", response.status_code, problem)
            raise ExchangeRefused(f"the authorization server's answer is no token response: {problem}") from None
        if response.status_code != 200 or answer.access_token is None:
            raise ExchangeRefused(f"the authorization server refused: {answer.error or response.status_code}")
        return answer.access_token
