"""Revoking a login's tokens where they were issued (RFC 7009): the mechanics of `logout`.

Skip on a first read: `logout` (account.py) says which login is ended, and as which client.
The revocation endpoint comes from the issuer's metadata, discovered again and validated
(discovery.py), never from anything stored; the refresh token goes first, since revoking it revokes
its whole family at this lesson's authorization server. The client authenticates as the SDK does at
the token endpoint (`prepare_token_auth`): a public client by its id, one with a secret in HTTP Basic.
"""

import logging

import httpx2
from mcp.client.auth import OAuthFlowError
from mcp.client.auth.oauth2 import OAuthContext
from mcp.shared.auth import OAuthToken

from .discovery import TIMEOUT, discover

logger = logging.getLogger(__name__)


async def revoke(context: OAuthContext, issuer: str, tokens: OAuthToken) -> bool:
    """Revoke `tokens` at `issuer` as `context.client_info`; False if its revocation endpoint is unknown."""
    client = context.client_info
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        try:
            endpoint = (await discover(context.server_url, issuer, http))[1].revocation_endpoint
        except (OAuthFlowError, httpx2.HTTPError) as problem:
            logger.warning("cannot find %s's revocation endpoint (%s): deleting only", issuer, problem)
            return False
        if endpoint is None or client is None:
            return False
        for kind in ("refresh_token", "access_token"):
            if token := getattr(tokens, kind):
                data = {"token": token, "token_type_hint": kind, "client_id": client.client_id}
                data, headers = context.prepare_token_auth(data, {})
                response = await http.post(str(endpoint), data=data, headers=headers)
                logger.info("revoked %s: HTTP %d", kind, response.status_code)
    return True
