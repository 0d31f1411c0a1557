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

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .adapter import json_request, oauth2_request
from .config import Settings
from .consent import ConsentPages
from .keys import SigningKeys
from .metadata import server_metadata
from .oauth import AuthorizationServer
from .seed import seed
from .storage import Storage
from .upstream import GitHub, UpstreamLogin


def create_app(settings: Settings) -> FastAPI:
    storage = Storage(settings.db_path)
    seed(storage)
    keys = SigningKeys(storage)
    metadata = server_metadata(settings)
    server = AuthorizationServer(settings, storage, keys, metadata)
    consent = ConsentPages(server)
    if settings.github_client_id and settings.github_client_secret:
        redirect_uri = settings.endpoint("/authorize/github/callback")  # under /authorize: the cookie's path
        github = GitHub(settings.github_client_id, settings.github_client_secret, settings.github_url, redirect_uri)
        consent.upstream = UpstreamLogin(consent, github)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        storage.close()

    # No /docs or /openapi.json: the metadata document is how this server describes itself.
    app = FastAPI(
        title="Journal authorization server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/oauth-authorization-server")
    @app.get("/.well-known/openid-configuration")
    async def well_known() -> dict[str, Any]:
        return metadata

    @app.get("/jwks.json")
    async def jwks() -> JSONResponse:
        # Public keys only; resource servers cache this and fetch again on an unknown kid.
        return JSONResponse(keys.public_jwks(), headers={"Cache-Control": "public, max-age=300"})

    @app.get("/authorize")
    async def authorize_page(request: Request) -> Response:
        return await consent.show(request)

    @app.post("/authorize")
    async def authorize_decision(request: Request) -> Response:
        return await consent.decide(request)

    @app.get("/authorize/github/callback")
    async def github_callback(request: Request) -> Response:
        if consent.upstream is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return await consent.upstream.callback(request)

    @app.post("/token")
    async def token(request: Request) -> Response:
        oauth_request = await oauth2_request(request, settings.issuer)
        await server.prepare_client(oauth_request.payload.client_id)
        return server.create_token_response(oauth_request)

    @app.post("/introspect")
    async def introspect(request: Request) -> Response:
        return server.create_endpoint_response("introspection", await oauth2_request(request, settings.issuer))

    @app.post("/revoke")
    async def revoke(request: Request) -> Response:
        oauth_request = await oauth2_request(request, settings.issuer)
        await server.prepare_client(oauth_request.payload.client_id)
        return server.create_endpoint_response("revocation", oauth_request)

    @app.post("/register")
    async def register(request: Request) -> Response:
        return server.create_endpoint_response("client_registration", await json_request(request, settings.issuer))

    return app
