"""A stored client registration that no longer serves: when the client lets it go, and registers again.

Skip on a first read: `client/oauth.py` calls these from two short overrides. A registration is
kept with the login (client/token_storage.py) and reused by the next one, unless it cannot serve it:
it names another redirect URI (another `--callback-port`), a metadata document is preferred to it
(`--client-metadata-url`), or the authorization server no longer knows it (`invalid_client` on a
refresh: it was restarted on a new database, say), where reusing it would send the user to a page
that can only refuse. And one that could never serve is refused up front: a metadata document with
`--callback-port 0` (`check_fixed_redirect_uri`).
"""

import logging
from typing import Any

import httpx2
from mcp.client.auth.oauth2 import OAuthContext

from .refusals import refused_client

logger = logging.getLogger(__name__)


def check_fixed_redirect_uri(callback_port: int, client_metadata_url: str | None) -> None:
    """ValueError (a usage error) for `--callback-port 0` with `--client-metadata-url`: a metadata document
    lists the client's redirect URIs, each with its port, and a port picked anew for each login is none of
    them, so the authorization server could only show the user an error page."""
    if client_metadata_url and callback_port == 0:
        raise ValueError(
            "--callback-port 0 picks a new port for each login, but a metadata document lists fixed redirect URIs:"
            " use the port the document names (python -m 03-oauth-mcp.cimd --callback-port)"
        )


def drop_unusable_registration(context: OAuthContext, redirect_uri: str) -> None:
    """Drop the stored registration before a new login it cannot serve: one for another redirect URI, or one
    where a metadata document (`context.client_metadata_url`) is preferred to registering."""
    stored, document = context.client_info, context.client_metadata_url
    if stored and not context.current_tokens:
        registered_for = [str(uri) for uri in stored.redirect_uris or []]
        if redirect_uri not in registered_for or (document and stored.client_id != document):
            context.client_info = None


async def forget_unknown_registration(response: httpx2.Response, context: OAuthContext, storage: Any) -> None:
    """After a refused refresh: forget the registration if the token endpoint answered `invalid_client`
    (storage: client/token_storage.py FileTokenStorage), so that the login that follows registers again, once."""
    if await refused_client(response):
        logger.warning("%s refused this client's registration (invalid_client): registering again", response.url)
        context.client_info = None
        storage.forget()
