"""The FastAPI application: one route per endpoint, each a thin call into Authlib (oauth.py).

| Method   | Path                                      | RFC             |
|----------|-------------------------------------------|-----------------|
| GET      | /.well-known/oauth-authorization-server   | 8414            |
| GET      | /.well-known/openid-configuration         | (same document) |
| GET      | /jwks.json                                | 7517            |
| GET/POST | /authorize                                | 6749, 7636, 8707, 9207 |
| GET      | /authorize/github/callback (if enabled)   | GitHub's OAuth  |
| POST     | /token                                    | 6749, 7636, 8707, 9068 |
| POST     | /introspect                               | 7662            |
| POST     | /revoke                                   | 7009            |
| POST     | /register                                 | 7591            |
| GET      | /healthz                                  | -               |
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .adapter import json_request, oauth2_request
from .cimd import MetadataDocuments
from .config import JWKS_MAX_AGE, MAX_BODY_BYTES, Settings
from .consent import ConsentPages
from .flow import AuthorizationFlow, BrowserCookie, Refused
from .keys import SigningKeys
from .limits import BodyLimit
from .metadata import server_metadata
from .oauth import AuthorizationServer
from .seed import seed
from .signin import PasswordSignIn
from .storage import Storage
from .throttle import Throttles
from .upstream import GitHub, UpstreamLogin


def create_app(settings: Settings) -> FastAPI:
    storage = Storage(settings.database)
    seed(storage, settings.default_resource)
    keys = SigningKeys(storage, settings.access_token_ttl)
    metadata = server_metadata(settings)
    throttles = Throttles.create(settings, storage)
    documents = MetadataDocuments(settings.cimd_allow_hosts, settings.cimd_ca_file, settings.cimd_cache_size)
    server = AuthorizationServer(settings, storage, keys, metadata, documents, throttles)
    flow = AuthorizationFlow(server, storage, BrowserCookie(settings.issuer, storage))
    upstream = None
    if settings.github_client_id and settings.github_client_secret:
        redirect_uri = settings.endpoint("/authorize/github/callback")  # under /authorize: the cookie's path
        github = GitHub(settings.github_client_id, settings.github_client_secret, settings.github_url, redirect_uri)
        upstream = UpstreamLogin(flow, storage, github)
    consent = ConsentPages(flow, PasswordSignIn(storage, throttles), upstream)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        storage.close()

    # No /docs or /openapi.json: the metadata document is how this server describes itself.
    app = FastAPI(
        title="Journal authorization server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(Refused)
    async def refused(request: Request, refusal: Refused) -> Response:
        return refusal.response  # an authorization request that cannot go on (flow.py)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/oauth-authorization-server")
    @app.get("/.well-known/openid-configuration")
    async def well_known() -> dict[str, Any]:
        return metadata

    @app.get("/jwks.json")
    async def jwks() -> JSONResponse:
        # Public keys only; resource servers cache this and fetch again on an unknown kid. Read
        # from the db (in a worker thread), so every replica publishes the same keys.
        published = await anyio.to_thread.run_sync(keys.public_jwks)
        return JSONResponse(published, headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})

    @app.get("/authorize")
    async def authorize_page(request: Request) -> Response:
        return await consent.show(request)

    @app.post("/authorize")
    async def authorize_decision(request: Request) -> Response:
        return await consent.decide(request)

    @app.get("/authorize/github/callback")
    async def github_callback(request: Request) -> Response:
        if upstream is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return await upstream.callback(request)

    # Authlib is synchronous, and its calls block: a client secret is an scrypt hash (~60 ms of
    # CPU), every lookup a database call. So each runs in a worker thread, and the event loop
    # stays free for every other request (/healthz answers in a millisecond during an attack).

    @app.post("/token")
    async def token(request: Request) -> Response:
        oauth_request = await oauth2_request(request, settings.issuer)
        await server.prepare_client(oauth_request.payload.client_id)
        return await anyio.to_thread.run_sync(server.create_token_response, oauth_request)

    @app.post("/introspect")
    async def introspect(request: Request) -> Response:
        oauth_request = await oauth2_request(request, settings.issuer)
        return await anyio.to_thread.run_sync(server.create_endpoint_response, "introspection", oauth_request)

    @app.post("/revoke")
    async def revoke(request: Request) -> Response:
        oauth_request = await oauth2_request(request, settings.issuer)
        await server.prepare_client(oauth_request.payload.client_id)
        return await anyio.to_thread.run_sync(server.create_endpoint_response, "revocation", oauth_request)

    @app.post("/register")
    async def register(request: Request) -> Response:
        registration = await json_request(request, settings.issuer)
        return await anyio.to_thread.run_sync(server.create_endpoint_response, "client_registration", registration)

    return app
