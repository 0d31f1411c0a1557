"""The authorization server, as this server knows it: its metadata, its signing keys, one HTTP client to ask it.

Every standard authorization server (Keycloak, Auth0, Entra ID, this lesson's own) publishes a
metadata document naming its endpoints, `jwks_uri` among them: nothing is guessed. It is looked
for where RFC 8414 and OpenID Connect put it (`metadata_urls`), and believed only if its `issuer`
is exactly `--issuer`: otherwise a server could pass off another's keys. One HTTP client, for the
process's life, asks the issuer everything (the token exchange too: exchange.py); a client per
request costs about 20 ms of CPU, which a flood of made-up tokens would turn into a denial of service.
"""

import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jwt

from ..server_extras.json_answers import KeySet, MetadataShape, UnreadableAnswer, read_answer, signing_keys
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
        for url in metadata_urls(self.url):
            try:
                async with self.http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                    if response.status_code != 200:
                        continue
                    document = await read_answer(response, MetadataShape)
            except (httpx2.HTTPError, UnreadableAnswer) as error:
                logger.warning("ignored %s: %s", url, error or type(error).__name__)
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
            async with self.http.stream("GET", jwks_uri, headers={"Accept": "application/json"}) as response:
                response.raise_for_status()
                keys = signing_keys(await read_answer(response, KeySet))
        except (httpx2.HTTPError, UnreadableAnswer, IssuerUnavailable) as error:
            logger.warning("cannot read the issuer's keys: %s", error or type(error).__name__)
            return None
        logger.info("fetched %d signing key(s) from %s", len(keys), jwks_uri)
        return keys


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be, in the order the MCP specification asks: RFC 8414 §3.1, then OpenID."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    if not path:
        return [f"{origin}/.well-known/oauth-authorization-server", f"{origin}/.well-known/openid-configuration"]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]
