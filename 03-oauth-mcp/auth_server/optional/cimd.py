"""Optional: Client ID Metadata Documents: a client_id that is a URL names a JSON document describing the client.

The MCP spec's preferred registration (draft-ietf-oauth-client-id-metadata-document): no
/register call; the server fetches the document when the client first shows up. Fetching a
URL that anyone can type is a server-side request forgery (SSRF) risk, so the fetch is fenced:

- https only (http just for hosts allow-listed with --cimd-allow-host, for local development);
- the host is resolved first and refused if any address is private, loopback, link-local,
  multicast or reserved (unless allow-listed), then the connection goes to that checked
  address, so a second DNS answer cannot swap in 127.0.0.1 (DNS rebinding);
- no redirects, no proxies from the environment, at most 64 KiB, and 5 s for all of it: a
  deadline for the whole fetch, not per read, or a server dripping a byte every few seconds
  would hold the request (and a worker) for as long as it liked;
- the URL is 2,000 characters at most (it is a cache key), the JSON is parsed within bounds
  (bounded_json.py: thirty thousand nested `[` were a 500), and each member is checked for its
  JSON type (DocumentShape) before anything reads it;
- the user's error page gives a generic reason for anything the network said (how a name
  resolved, which address refused): only the log gets the detail, so the page cannot be used
  to map what this server can reach;
- fetched documents are cached for as long as their Cache-Control allows (at most an hour), but
  only so many of them (`--cimd-cache-size`): anyone who publishes documents at URLs of their
  own can make this server fetch and keep one per URL, so an unbounded cache is memory anyone
  can fill. The least recently used document makes room.

`MetadataDocumentClients` plugs this into the core: the client store, for client ids that are URLs.
"""

import ipaddress
import logging
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import anyio
import httpx2
import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Engine

from ...bounded_json import JsonOutOfBounds, parse_json
from ..models import PUBLIC, Client
from ..storage.clients import ClientStore
from .registration import MAX_URI, client_name_problem, redirect_uri_problem

FETCH_DEADLINE = 5.0  # seconds for resolving, connecting and reading, all together
MAX_DOCUMENT_BYTES = 64 * 1024
DEFAULT_CACHE_SECONDS = 300
MAX_CACHE_SECONDS = 3600
GRANT_TYPES = {"authorization_code", "refresh_token"}
# Anyone can make the server fetch a document of theirs: it keeps this many at most.
DEFAULT_CIMD_CACHE_SIZE = 1000

AllowHostOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Host whose client metadata documents and client key sets (jwks_uri) may be fetched even from "
        "private or loopback addresses, and over http; repeatable; for development.",
        show_default=False,
    ),
]
CaFileOption = Annotated[
    Path | None,
    typer.Option(
        exists=True,
        dir_okay=False,
        help="A certificate authority (PEM) to trust for client metadata documents, besides the system's; "
        "for development, with `python -m 03-oauth-mcp.cimd`.",
        show_default=False,
    ),
]
CacheSizeOption = Annotated[
    int, typer.Option(min=0, help="Client metadata documents kept at most; the least recently used makes room.")
]

logger = logging.getLogger(__name__)


# What the error page says for every failure of the network itself.
UNREACHABLE = "the client's metadata document could not be fetched from a public address"


class MetadataDocumentError(Exception):
    """Why a client's metadata document was refused: `str(error)` for the error page (never a
    redirect), `detail` for the log only."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.detail = detail or reason


def is_metadata_document_url(client_id: str | None) -> bool:
    """URL-shaped client ids are metadata documents; registered ids never contain "://"."""
    return bool(client_id) and client_id.startswith(("https://", "http://"))


class MetadataDocumentClients(ClientStore):
    """The core's client store, and the clients whose id is a URL: fetched by `prepare` before Authlib asks."""

    def __init__(self, engine: Engine, documents: "MetadataDocuments") -> None:
        super().__init__(engine)
        self.documents = documents

    def get(self, client_id: str) -> Client | None:
        if is_metadata_document_url(client_id):
            return self.documents.cached(client_id)  # fetched (asynchronously) by prepare
        return super().get(client_id)

    async def prepare(self, client_id: str | None) -> str | None:
        if not is_metadata_document_url(client_id):
            return None
        try:
            await self.documents.resolve(client_id)
        except MetadataDocumentError as error:  # then get finds no such client
            logger.warning("refused client metadata document %s: %s", client_id, error.detail)
            return str(error)  # for the user's page: no network details
        return None


@dataclass
class _Cached:
    client: Client
    expires_at: float


class MetadataDocuments:
    def __init__(self, allow_hosts: frozenset[str], ca_file: Path | None, cache_size: int) -> None:
        self.allow_hosts = allow_hosts
        self.cache_size = cache_size
        # The system's certificate authorities, plus one for development (a client serving its
        # document on this machine with a throwaway CA: `python -m 03-oauth-mcp.cimd`).
        self.tls = ssl.create_default_context()
        if ca_file is not None:
            self.tls.load_verify_locations(cafile=ca_file)
        self._cache: dict[str, _Cached] = {}  # least recently used first

    def cached(self, client_id: str) -> Client | None:
        """The client a document fetched earlier describes, while it is fresh; a hit makes it the most
        recently used. An expired entry is dropped here."""
        entry = self._cache.pop(client_id, None)
        if entry is None or entry.expires_at <= time.monotonic():
            return None
        self._cache[client_id] = entry  # now the most recently used
        return entry.client

    def _remember(self, client_id: str, client: Client, max_age: float) -> None:
        """Keep a fetched client for `max_age` seconds, the least recently used making room."""
        if max_age <= 0:
            return  # the publisher said no-store or no-cache
        while self._cache and len(self._cache) >= self.cache_size:
            del self._cache[next(iter(self._cache))]  # the least recently used
        if self.cache_size > 0:
            self._cache[client_id] = _Cached(client, time.monotonic() + max_age)

    async def resolve(self, client_id: str) -> Client:
        """The client a metadata-document URL describes, fetched or from the cache."""
        if client := self.cached(client_id):
            return client
        body, max_age = await self.fetch(client_id)
        client = self._parse(client_id, body)
        self._remember(client_id, client, max_age)
        logger.info("fetched client metadata document %s (%s)", client_id, client.client_name)
        return client

    async def fetch(self, address: str) -> tuple[bytes, float]:
        """GET `address` behind the fence: (the body, how long it may be cached). Also for a client's
        key set (`jwks_uri`, client_keys.py): any URL a client names is fetched this way."""
        url = self._check_url(address)
        try:
            with anyio.fail_after(FETCH_DEADLINE):
                return await self._fetch(url)
        except TimeoutError:
            raise MetadataDocumentError(UNREACHABLE, f"not fetched within {FETCH_DEADLINE:g} s") from None

    def _check_url(self, client_id: str) -> "httpx2.URL":
        if len(client_id) > MAX_URI:  # also the key of a cache entry, and a value a pending authorization keeps
            raise MetadataDocumentError(f"a client_id URL may be {MAX_URI} characters at most")
        try:
            parts, url = urlsplit(client_id), httpx2.URL(client_id)
        except (ValueError, httpx2.InvalidURL):
            raise MetadataDocumentError("the client_id is not a valid URL") from None
        allowed = parts.hostname in self.allow_hosts
        if parts.scheme != "https" and not (parts.scheme == "http" and allowed):
            raise MetadataDocumentError("a client_id URL must use https")
        # The draft's shape rules: a path, no fragment, no credentials, no dot segments.
        if not parts.hostname or parts.path in ("", "/") or parts.fragment or parts.username or parts.password:
            raise MetadataDocumentError("a client_id URL needs a host and a path, and no fragment or credentials")
        if any(segment in (".", "..") for segment in parts.path.split("/")):
            raise MetadataDocumentError("a client_id URL must not contain . or .. path segments")
        return url

    async def _checked_address(self, url: "httpx2.URL") -> str:
        """Resolve the host and vet every address: one bad answer is enough to refuse."""
        try:
            infos = await anyio.getaddrinfo(url.host, url.port or (443 if url.scheme == "https" else 80))
        except OSError as error:
            raise MetadataDocumentError(UNREACHABLE, f"cannot resolve {url.host}: {error}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if url.host not in self.allow_hosts:
            for address in addresses:
                if not address.is_global or address.is_multicast:
                    raise MetadataDocumentError(
                        UNREACHABLE,
                        f"{url.host} resolves to {address}, a private, loopback, link-local, multicast or "
                        "reserved address (allow it for development with --cimd-allow-host)",
                    )
        return str(addresses[0])

    async def _fetch(self, url: "httpx2.URL") -> tuple[bytes, float]:
        address = await self._checked_address(url)
        # Connect to the address just checked; keep the name for the Host header and for TLS
        # (SNI and certificate verification), so the certificate must still be the host's.
        pinned = url.copy_with(host=address)
        headers = {"Host": url.netloc.decode(), "Accept": "application/json"}
        try:
            async with (
                httpx2.AsyncClient(
                    timeout=FETCH_DEADLINE, follow_redirects=False, trust_env=False, verify=self.tls
                ) as http,
                http.stream("GET", pinned, headers=headers, extensions={"sni_hostname": url.host}) as response,
            ):
                if response.status_code != 200:
                    raise MetadataDocumentError(f"fetching the document answered HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise MetadataDocumentError(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
                return body, _max_age(response.headers.get("cache-control", ""))
        except httpx2.HTTPError as error:
            raise MetadataDocumentError(UNREACHABLE, f"cannot fetch the document: {error!r}") from None

    def _parse(self, client_id: str, body: bytes) -> Client:
        try:
            document = DocumentShape.model_validate(parse_json(body, MAX_DOCUMENT_BYTES))
        except JsonOutOfBounds as problem:
            raise MetadataDocumentError(f"the document is not JSON within bounds: {problem}") from None
        except ValidationError as error:
            raise MetadataDocumentError(shape_problem(error)) from None
        # The spec's MUST: the document names itself, exactly. Otherwise a page could claim to be another client.
        if document.client_id != client_id:
            raise MetadataDocumentError("the document's client_id is not its own URL")
        name = document.client_name
        if not name or not name.strip():
            raise MetadataDocumentError("the document has no client_name")
        if problem := client_name_problem(name):
            raise MetadataDocumentError(f"the document's client_name {problem}")
        if not document.redirect_uris:
            raise MetadataDocumentError("the document has no redirect_uris")
        for uri in document.redirect_uris:
            if problem := redirect_uri_problem(uri):
                raise MetadataDocumentError(f"redirect URI {uri} {problem}")
        # Public clients only: private_key_jwt would need the document's keys, which this lesson skips.
        if document.token_endpoint_auth_method not in PUBLIC:
            raise MetadataDocumentError("only token_endpoint_auth_method none is supported")
        if not set(document.grant_types) <= GRANT_TYPES:
            raise MetadataDocumentError("grant_types may only be authorization_code and refresh_token")
        return Client(
            client_id=client_id,
            client_name=name.strip(),
            redirect_uris=tuple(document.redirect_uris),
            grant_types=tuple(document.grant_types),
            auth_methods=PUBLIC,
            kind="metadata document",
            metadata=document.model_dump(include={"client_uri", "logo_uri"}, exclude_none=True),
        )


class DocumentShape(BaseModel):
    """The members of a metadata document this server reads, each of its JSON type (strict: no
    conversions); the rest is ignored. Absent ones are None, and refused above where required."""

    model_config = ConfigDict(strict=True, extra="ignore")

    client_id: str | None = None
    client_name: str | None = None
    redirect_uris: list[str] | None = None
    token_endpoint_auth_method: str = "none"  # noqa: S105 -- a method's name, not a secret
    grant_types: list[str] = ["authorization_code", "refresh_token"]
    client_uri: str | None = None
    logo_uri: str | None = None


def shape_problem(error: ValidationError) -> str:
    """What was of the wrong type: a member DocumentShape declares (never the publisher's text), or the whole."""
    location = error.errors()[0]["loc"]
    return f"the document's {location[0]} has the wrong JSON type" if location else "the document is not a JSON object"


def _max_age(cache_control: str) -> float:
    """Honour the publisher's Cache-Control within bounds (the spec says SHOULD respect cache headers)."""
    if re.search(r"\bno-(store|cache)\b", cache_control):
        return 0.0
    if match := re.search(r"\bmax-age=(\d+)", cache_control):
        return float(min(int(match.group(1)), MAX_CACHE_SECONDS))
    return float(DEFAULT_CACHE_SECONDS)
