"""Token introspection (RFC 7662): when a deployment asks the authorization server about every token.

`--verifier introspection` in place of the lesson's `JWTVerifier`, the same `TokenVerifier` to the
gate. It asks the authorization server's `introspection_endpoint` (from its metadata, like the
keys), authenticated as this server's client with HTTP Basic. Choose it when tokens are opaque,
when JWTs are not RFC 9068 access tokens (`typ: JWT`), or when a revocation must count at once;
the price is a round trip per token, which `decisions.py` keeps to one every few seconds.

The answer is the issuer's JSON, read within bounds and in the shape below (../server_extras/json_answers.py):
one this verifier cannot read verifies no token, and never crashes it.
"""

import logging
import time

import httpx2
from mcp.server.auth.provider import AccessToken
from pydantic import BaseModel, ConfigDict

from ..server.issuer import Issuer, IssuerUnavailable
from ..server.verifier import CLOCK_LEEWAY_SECONDS
from ..server_extras.client_auth import basic_credentials
from ..server_extras.json_answers import UnreadableAnswer, read_answer

logger = logging.getLogger(__name__)


class IntrospectionVerifier:
    def __init__(self, issuer: Issuer, resource: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.resource = resource
        self._authorization = basic_credentials(client_id, client_secret)  # RFC 7662 §2.1: the caller authenticates

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            endpoint = await self.issuer.endpoint("introspection_endpoint")
            headers = {"Authorization": self._authorization, "Accept": "application/json"}
            async with self.issuer.http.stream("POST", endpoint, data={"token": token}, headers=headers) as response:
                response.raise_for_status()
                answer = await read_answer(response, IntrospectionAnswer)
        except (httpx2.HTTPError, IssuerUnavailable, UnreadableAnswer) as error:
            logger.warning("introspection failed: %s", error)
            return None
        claims = answer.model_dump(exclude_unset=True)  # as sent, every member read now of its type
        audiences = answer.aud if isinstance(answer.aud, list) else [answer.aud]
        if not answer.active:
            logger.info("token refused: inactive")
            return None
        # RFC 7662 makes `iss` optional (the answer comes from the issuer's own endpoint); if
        # present it must be ours. The audience is not optional here: it is what RFC 8707 binds.
        if claims.get("iss", self.issuer.url) != self.issuer.url or self.resource not in audiences:
            logger.info("token refused: issued by %r for %r", answer.iss, answer.aud)
            return None
        if answer.exp is not None and answer.exp + CLOCK_LEEWAY_SECONDS < time.time():
            return None
        # `sub` may be missing for a token a client obtained for itself: it acts as its client.
        subject = answer.sub if answer.sub is not None else answer.client_id
        if subject is None:
            logger.info("token refused: no subject and no client_id")
            return None
        return AccessToken(
            token=token,
            client_id=answer.client_id or "",
            scopes=(answer.scope or "").split(),
            expires_at=answer.exp,
            resource=self.resource,  # set only after the audience was checked
            subject=subject,
            claims=claims,
        )


class IntrospectionAnswer(BaseModel):
    """The members of an introspection answer (RFC 7662 §2.2) this server reads, of their types.
    `exp` is an integer: a float would have passed the expiry check by not being one."""

    model_config = ConfigDict(extra="allow", strict=True)
    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None
