"""The authorization server put together: its parts, made in order, and one route per endpoint.

| Method   | Path                                      | RFC                          |
|----------|-------------------------------------------|------------------------------|
| GET      | /.well-known/oauth-authorization-server   | 8414                         |
| GET      | /.well-known/openid-configuration         | (same document)              |
| GET      | /jwks.json                                | 7517                         |
| GET/POST | /authorize                                | 6749, 7636, 8707, 9207       |
| POST     | /token                                    | 6749, 7636, 8707, 9068, 8693 |
| POST     | /revoke                                   | 7009                         |
| GET      | /healthz                                  | -                            |

The optional parts add /introspect (RFC 7662), /register (RFC 7591) and, with --github-client-id,
/authorize/github/callback. They are plugged in at one place, optional/wiring.py: it hands
`AuthorizationService` stronger parts (`clients`, `pending`, `guard`), then adds to what it made.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from .adapter import oauth2_request
from .config import JWKS_MAX_AGE, Settings
from .consent import ConsentPages
from .flow import AuthorizationFlow, Refused
from .guard import Guard
from .keys import SigningKeys
from .metadata import server_metadata
from .oauth import AuthorizationServer
from .seed import seed
from .signin import PasswordSignIn
from .storage.clients import ClientStore
from .storage.codes import AuthorizationCodes
from .storage.keys import KeyStore
from .storage.pending import PendingAuthorizations
from .storage.refresh_tokens import RefreshTokens
from .storage.revocations import Revocations
from .storage.users import Users


class AuthorizationService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,  # storage.open_database
        *,
        clients: ClientStore | None = None,
        pending: PendingAuthorizations | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.settings, self.engine, guard = settings, engine, guard or Guard()
        self.clients, users = clients or ClientStore(engine), Users(engine)
        seed(users, self.clients, settings.default_resource)
        self.keys = SigningKeys(KeyStore(engine), settings.access_token_ttl)
        codes = AuthorizationCodes(Revocations(engine))
        self.server = AuthorizationServer(settings, self.keys, self.clients, codes, RefreshTokens(engine), guard)
        self.flow = AuthorizationFlow(self.server, pending or PendingAuthorizations(engine))
        self.consent = ConsentPages(self.flow, PasswordSignIn(users, guard))

    def create_app(self, metadata: dict[str, Any] | None = None) -> FastAPI:
        """The routes, once every grant is registered; `metadata`: more members for the metadata document."""
        self.metadata = server_metadata(self.settings, self.server.grant_types, metadata or {})

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            yield
            self.engine.dispose()

        # No /docs or /openapi.json: the metadata document is how this server describes itself.
        self.app = FastAPI(
            title="Journal authorization server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
        )
        self._routes(self.app, self.server, self.consent, self.settings.issuer)
        return self.app

    def _routes(self, app: FastAPI, server: AuthorizationServer, consent: ConsentPages, issuer: str) -> None:
        @app.exception_handler(Refused)
        async def refused(request: Request, refusal: Refused) -> Response:
            return refusal.response  # an authorization request that cannot go on (flow.py)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/.well-known/oauth-authorization-server")
        @app.get("/.well-known/openid-configuration")
        async def well_known() -> dict[str, Any]:
            return self.metadata

        @app.get("/jwks.json")
        async def jwks() -> JSONResponse:
            # Public keys only; resource servers cache this and fetch again on an unknown kid. Read
            # from the db (in a worker thread), so every replica publishes the same keys.
            published = await anyio.to_thread.run_sync(self.keys.public_jwks)
            return JSONResponse(published, headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})

        @app.get("/authorize")
        async def authorize_page(request: Request) -> Response:
            return await consent.show(request)

        @app.post("/authorize")
        async def authorize_decision(request: Request) -> Response:
            return await consent.decide(request)

        # Authlib is synchronous, and its calls block: a client secret is an scrypt hash (~60 ms of
        # CPU), every lookup a database call. So each runs in a worker thread, and the event loop
        # stays free for every other request (/healthz answers in a millisecond during an attack).

        @app.post("/token")
        async def token(request: Request) -> Response:
            oauth_request = await oauth2_request(request, issuer)
            await server.prepare_client(oauth_request.payload.client_id)
            return await anyio.to_thread.run_sync(server.create_token_response, oauth_request)

        @app.post("/revoke")
        async def revoke(request: Request) -> Response:
            oauth_request = await oauth2_request(request, issuer)
            await server.prepare_client(oauth_request.payload.client_id)
            return await anyio.to_thread.run_sync(server.create_endpoint_response, "revocation", oauth_request)
