"""The one place the optional parts are plugged in: `create_app`, what `python -m 03-oauth-mcp.auth_server` runs."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response

from ..adapter import oauth2_request
from ..app import AuthorizationService
from ..config import Settings
from ..storage import open_database
from ..storage.users import Users
from .body_limit import MAX_BODY_BYTES, BodyLimit
from .cimd import DEFAULT_CIMD_CACHE_SIZE, MetadataDocumentClients, MetadataDocuments
from .enterprise import METADATA as ENTERPRISE_METADATA
from .enterprise import EnterpriseTrust, IdentityAssertionGrant, TrustedIdentityProviders, seed_enterprise_client
from .github import CALLBACK_PATH, GitHub, GitHubSignIn
from .introspection import METADATA as INTROSPECTION_METADATA
from .introspection import TokenIntrospection
from .machine_clients import ClientCredentialsGrant, seed_bot
from .pending_limits import BoundedPendingAuthorizations, upgrade_pending_table
from .private_key_jwt import METADATA as PRIVATE_KEY_JWT_METADATA
from .private_key_jwt import ClientKeySets, PrivateKeyJWT
from .recently_verified import RIGHT_SECRET_MEMORY_ENTRIES, RIGHT_SECRET_MEMORY_SECONDS, RecentlyVerified
from .registration import ClientRegistration, json_request
from .throttle import DEFAULT_MAX_LOCKOUT, DEFAULT_REGISTRATION_LIMIT, Throttles
from .used_assertions import UsedAssertions

# How an endpoint's route reads a request for Authlib: a form (../adapter.py), or JSON (registration.py).
Reader = Callable[[Request, str], Awaitable[Any]]


@dataclass(frozen=True)
class Options:
    """The optional parts' settings, from the command line (command_line.py)."""

    cimd_allow_hosts: frozenset[str] = field(default_factory=frozenset)
    cimd_ca_file: Path | None = None  # a development CA trusted for metadata documents, besides the system's
    cimd_cache_size: int = DEFAULT_CIMD_CACHE_SIZE
    github_client_id: str | None = None  # "Approve with GitHub": off unless given, with its secret
    github_client_secret: str | None = None
    github_url: str = "https://github.com"
    max_lockout: float = DEFAULT_MAX_LOCKOUT  # the longest wait a run of failures can impose
    registration_limit: int = DEFAULT_REGISTRATION_LIMIT
    trusted_idps: dict[str, str] = field(default_factory=dict)  # issuer -> JWKS URL: whose ID-JAGs to redeem


def create_app(settings: Settings, options: Options) -> FastAPI:
    """The core's `AuthorizationService` (../app.py), each optional part handed in or added to it."""
    engine = open_database(settings.database)  # after the imports above: their tables are created too
    upgrade_pending_table(engine)
    throttles = Throttles(engine, options.max_lockout, options.registration_limit)
    documents = MetadataDocuments(options.cimd_allow_hosts, options.cimd_ca_file, options.cimd_cache_size)
    clients = MetadataDocumentClients(engine, documents)
    clients.verify_secret = RecentlyVerified(RIGHT_SECRET_MEMORY_SECONDS, RIGHT_SECRET_MEMORY_ENTRIES).verify
    seed_bot(clients)
    service = AuthorizationService(
        settings, engine, clients=clients, pending=BoundedPendingAuthorizations(engine), guard=throttles
    )
    server = service.server
    used = UsedAssertions(engine)  # each signed assertion's jti, accepted once: at every replica
    server.register_client_auth_method("private_key_jwt", PrivateKeyJWT(settings, ClientKeySets(documents), used))
    server.register_grant(ClientCredentialsGrant)
    enterprise_metadata = {}
    if options.trusted_idps:  # Enterprise-Managed Authorization: ID-JAGs, from the IdPs the operator named
        seed_enterprise_client(clients)
        server.enterprise = EnterpriseTrust(TrustedIdentityProviders(options.trusted_idps), Users(engine), used)
        server.register_grant(IdentityAssertionGrant)
        enterprise_metadata = ENTERPRISE_METADATA
    server.register_endpoint(TokenIntrospection(settings, service.keys, clients, server.revocations))
    github = None
    if options.github_client_id and options.github_client_secret:
        redirect_uri = settings.endpoint(CALLBACK_PATH)
        github_app = GitHub(options.github_client_id, options.github_client_secret, options.github_url, redirect_uri)
        github = GitHubSignIn(service.flow, engine, github_app)
        service.consent.offer(github)

    app = service.create_app(
        {
            "registration_endpoint": settings.endpoint("/register"),
            "introspection_endpoint": settings.endpoint("/introspect"),
            **INTROSPECTION_METADATA,
            "client_id_metadata_document_supported": True,  # MCP's preferred registration (cimd.py)
            **PRIVATE_KEY_JWT_METADATA,
            **enterprise_metadata,
        }
    )
    # /register checks what a client registers against the metadata document (grant types, methods).
    server.register_endpoint(ClientRegistration(clients, service.metadata, throttles))
    add_endpoint(service, "/introspect", "introspection", oauth2_request)
    add_endpoint(service, "/register", "client_registration", json_request)
    if github is not None:
        app.add_api_route(CALLBACK_PATH, github.callback, methods=["GET"])
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


def add_endpoint(service: AuthorizationService, path: str, name: str, read: Reader) -> None:
    """POST `path`, answered by the Authlib endpoint registered as `name`, in a worker thread (as ../app.py's)."""

    async def endpoint(request: Request) -> Response:
        wrapped = await read(request, service.settings.issuer)
        return await anyio.to_thread.run_sync(service.server.create_endpoint_response, name, wrapped)

    service.app.add_api_route(path, endpoint, methods=["POST"])
