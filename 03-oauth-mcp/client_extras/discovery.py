"""Discovery again, outside the SDK's flow and within bounds: what the client asks before it trusts a stored login.

Skip on a first read: `client/oauth.py` says when it asks (at start, before a stored login is
refreshed, and at `logout`) and why. The SDK discovers the protected resource and its authorization
server on a 401, and keeps what it learned in memory only, so a new process knows nothing of where
its stored login may be refreshed. `discover` learns it again, with the SDK's own models and rules:
the resource metadata must describe the URL asked for (RFC 9728 §3.3) and still name the login's
issuer, and the issuer's metadata must name itself exactly (RFC 8414 §3.3).

The SDK's flow skips a metadata document that fails validation (an `authorization_endpoint` that is a
`javascript:` or `file:` URL, say) as if there were none, and says nothing of it;
`refuse_without_metadata` looks again, to tell the user which document was refused, and why.

Each document is read within bounds (`bounded_json.py`): a server that answers 30,000 nested `[` or an
endless body gets a refusal, not a RecursionError or all the memory it asks for.
"""

from typing import NoReturn, TypeVar

import httpx2
from mcp.client.auth import OAuthFlowError
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    issuers_match,
    validate_metadata_issuer,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from pydantic import BaseModel, ValidationError

from ..bounded_json import JsonOutOfBounds, read_json

MAX_DOCUMENT_BYTES = 64 * 1024  # a metadata document is a few kilobytes
TIMEOUT = httpx2.Timeout(10)
Document = TypeVar("Document", bound=BaseModel)


async def discover(
    server_url: str, issuer: str, http: httpx2.AsyncClient | None = None
) -> tuple[ProtectedResourceMetadata, OAuthMetadata]:
    """The resource's metadata and its authorization server's, validated; OAuthFlowError unless the resource
    names `issuer` as its authorization server and the issuer's metadata names itself exactly."""
    if http is None:
        async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
            return await discover(server_url, issuer, http)
    urls = build_protected_resource_metadata_discovery_urls(None, server_url)
    prm = await first_document(http, urls, ProtectedResourceMetadata, "protected resource metadata")
    if prm.resource and not check_resource_allowed(resource_url_from_server_url(server_url), str(prm.resource)):
        raise OAuthFlowError(f"the metadata at {server_url} describes another resource, {prm.resource}")
    if not any(issuers_match(str(server), issuer) for server in prm.authorization_servers):
        raise OAuthFlowError(f"{server_url} no longer names {issuer} as its authorization server")
    urls = build_oauth_authorization_server_metadata_discovery_urls(issuer, server_url)
    metadata = await first_document(http, urls, OAuthMetadata, "authorization server metadata")
    validate_metadata_issuer(metadata, issuer)
    return prm, metadata


async def refuse_without_metadata(server_url: str, issuer: str | None) -> NoReturn:
    """OAuthFlowError, saying why the SDK's flow holds no authorization server metadata for `issuer`."""
    problem = "no authorization server metadata was found"
    if issuer:
        urls = build_oauth_authorization_server_metadata_discovery_urls(issuer, server_url)
        try:
            async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
                await first_document(http, urls, OAuthMetadata, "authorization server metadata")
        except OAuthFlowError as refused:
            problem = str(refused)
        except httpx2.HTTPError:
            pass
    raise OAuthFlowError(f"{problem}: refusing to log in without it")


async def first_document(http: httpx2.AsyncClient, urls: list[str], model: type[Document], what: str) -> Document:
    """The first of `urls` that serves a valid `model`; OAuthFlowError naming the first one refused, if any."""
    refused = None
    for url in urls:
        response = await http.send(create_oauth_metadata_request(url), stream=True)
        try:
            if response.status_code == 200:
                return model.model_validate(await read_json(response, MAX_DOCUMENT_BYTES))
        except JsonOutOfBounds as error:
            refused = refused or f"the {what} at {url} was refused as invalid: {error}"
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first["loc"])) or "the document"
            refused = refused or f"the {what} at {url} was refused as invalid: {where}: {first['msg']}"
        finally:
            await response.aclose()
    raise OAuthFlowError(refused or f"no {what} was found at {' or '.join(urls)}")
