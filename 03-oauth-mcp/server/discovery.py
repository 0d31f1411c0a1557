"""Where the authorization server keeps its keys and its introspection endpoint: read from its metadata.

Any standards-compliant authorization server (Keycloak, Auth0, Entra ID, Okta, an OpenID
provider, this lesson's own) publishes a metadata document; a resource server that guessed
`{issuer}/jwks.json` would work with one of them only. The document is looked for where
RFC 8414 §3.1 and OpenID Connect Discovery put it, in the MCP specification's order:

    issuer https://as.example.com/tenant1
      -> https://as.example.com/.well-known/oauth-authorization-server/tenant1
      -> https://as.example.com/.well-known/openid-configuration/tenant1
      -> https://as.example.com/tenant1/.well-known/openid-configuration
    issuer https://as.example.com
      -> https://as.example.com/.well-known/oauth-authorization-server
      -> https://as.example.com/.well-known/openid-configuration

A document counts only if its `issuer` is exactly `--issuer` (RFC 8414 §3.3): otherwise a
server could pass off another's keys. It is read within bounds, and the members this server acts
on must be of their types (answers.py): a broken or hostile document is passed over like a
missing one, for the next location. The document is cached, and fetched again at most every
REFETCH_SECONDS, whether the last fetch worked or failed: a failing authorization server is
not hammered once per request.

Everything this server asks the authorization server (this document, its keys, introspection,
token exchange) goes over one HTTP client, `IssuerMetadata.http`: a client per request would build a TLS context
and open a connection each time, about 20 ms of CPU, which a flood of made-up tokens at an
introspecting server would turn into a denial of service.
"""

import logging
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
from pydantic import BaseModel, ConfigDict

from .answers import UnreadableAnswer, read_answer

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 3600  # keys and endpoints change rarely; a new kid refetches the JWKS anyway
REFETCH_SECONDS = 30  # the least time between two fetches, after a failure too


class MetadataUnavailable(Exception):
    """No usable metadata document for the issuer (yet): tokens cannot be verified right now."""


class MetadataShape(BaseModel):
    """The members of the metadata this server reads, of the types RFC 8414 §2 gives them. The others
    are kept as sent: `advertised_algorithms` (verifier.py) checks the type of each list it reads."""

    model_config = ConfigDict(extra="allow", strict=True)
    issuer: str
    jwks_uri: str | None = None
    token_endpoint: str | None = None
    introspection_endpoint: str | None = None


def metadata_urls(issuer: str) -> list[str]:
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    if not path:
        return [f"{origin}/.well-known/oauth-authorization-server", f"{origin}/.well-known/openid-configuration"]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


class IssuerMetadata:
    """The authorization server's metadata document, discovered once and kept fresh at a bounded rate."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        # For the process's lifetime; its connections close with it. No cookies: what one answer
        # sets must not ride along with the next request, which may be about another caller's token.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self.http = httpx2.AsyncClient(timeout=5, follow_redirects=False, cookies=no_cookies)
        self._document: dict[str, Any] | None = None
        self._fetched_at = float("-inf")  # when the last attempt was made, successful or not
        self._lock = anyio.Lock()  # one fetch at a time; concurrent requests wait for its result

    async def get(self) -> dict[str, Any]:
        """The validated document; MetadataUnavailable if none could be had."""
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if (self._document is None and age >= REFETCH_SECONDS) or age >= MAX_AGE_SECONDS:
                await self._fetch()
        if self._document is None:
            raise MetadataUnavailable(f"no metadata for {self.issuer} (next try within {REFETCH_SECONDS} s)")
        return self._document

    async def endpoint(self, name: str) -> str:
        """An endpoint URL from the document, e.g. `jwks_uri`; MetadataUnavailable if it has none."""
        value = (await self.get()).get(name)
        if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http"):
            raise MetadataUnavailable(f"{self.issuer} publishes no {name}")
        return value

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        for url in metadata_urls(self.issuer):
            try:
                async with self.http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                    if response.status_code != 200:
                        continue
                    document = await read_answer(response, MetadataShape)
            except httpx2.HTTPError as error:
                logger.warning("cannot read %s: %s", url, type(error).__name__)
                continue
            except UnreadableAnswer as problem:
                logger.warning("ignored %s: %s", url, problem)
                continue
            if document.issuer != self.issuer:
                logger.warning("ignored %s: it names issuer %r, not %r", url, document.issuer, self.issuer)
                continue
            self._document = document.model_dump()
            logger.info("read the metadata of %s from %s", self.issuer, url)
            return
        logger.warning("no metadata document for %s: will try again in %d s", self.issuer, REFETCH_SECONDS)
