"""The authorization server, as this server knows it: its metadata, its signing keys, one HTTP client to ask it.

Its metadata names its endpoints, `jwks_uri` among them, and is believed only if its `issuer` is
exactly `--issuer`: else a server could pass off another's keys.
"""

import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jwt
from mcp.client.auth.utils import build_oauth_authorization_server_metadata_discovery_urls as metadata_urls

from ..server_extras.json_answers import KeySet, MetadataShape, UnreadableAnswer, get_answer, signing_keys
from ..server_extras.kept import Kept

logger = logging.getLogger(__name__)


class IssuerUnavailable(Exception):
    """What is needed from the authorization server cannot be had (yet)."""


class Issuer:
    """The authorization server whose tokens this server accepts: `url` exactly as its metadata names it."""

    def __init__(self, url: str) -> None:
        self.url = url
        # No cookies: what one answer sets must not go out with a request about another caller's token.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx2.AsyncClient(timeout=5, follow_redirects=False, cookies=no_cookies)
        self._metadata = Kept(self._fetch_metadata, max_age=3600)  # kept, and fetched again at a bounded rate
        self._keys = Kept(self._fetch_keys, max_age=300)  # a key the issuer withdrew: accepted 5 minutes at most

    async def metadata(self) -> dict[str, Any]:
        """The validated metadata document; IssuerUnavailable if none could be had."""
        if (document := await self._metadata.get()) is None:
            raise IssuerUnavailable(f"no metadata for {self.url} (yet)")
        return document

    async def endpoint(self, name: str) -> str:
        """An endpoint URL from the metadata, e.g. `token_endpoint`; IssuerUnavailable if it names none."""
        value = (await self.metadata()).get(name)
        if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http"):
            raise IssuerUnavailable(f"{self.url} publishes no {name}")
        return value

    async def signing_key(self, kid: str) -> jwt.PyJWK | None:
        """The issuer's signing key `kid`, from its `jwks_uri` (fetched again for a new kid); None if it has none."""
        keys = await self._keys.get(wanted=lambda keys: kid in keys)
        return keys.get(kid) if keys else None

    async def _fetch_metadata(self) -> dict[str, Any] | None:
        for url in metadata_urls(self.url, self.url):  # RFC 8414, then OpenID, in the order MCP asks
            try:
                document = await get_answer(self.http, url, MetadataShape)
            except (httpx2.HTTPError, UnreadableAnswer) as error:  # none there, or none to believe: the next one
                logger.info("passed over %s: %s", url, error or type(error).__name__)
                continue
            if document.issuer != self.url:
                logger.warning("ignored %s: it names issuer %r, not %r", url, document.issuer, self.url)
                continue
            logger.info("read the metadata of %s from %s", self.url, url)
            return document.model_dump()
        logger.warning("no metadata document for %s", self.url)
        return None

    async def _fetch_keys(self) -> dict[str, jwt.PyJWK] | None:
        try:
            jwks_uri = await self.endpoint("jwks_uri")
            keys = signing_keys(await get_answer(self.http, jwks_uri, KeySet))
        except (httpx2.HTTPError, UnreadableAnswer, IssuerUnavailable) as error:
            logger.warning("cannot read the issuer's keys: %s", error or type(error).__name__)
            return None
        logger.info("fetched %d signing key(s) from %s", len(keys), jwks_uri)
        return keys
